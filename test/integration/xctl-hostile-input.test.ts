// Input that never ends or is no file, and values YAML reads as something else, through xctl
// against a real etcd: exit 2, the file (and line and field) named, nothing written, and no wait
// for a writer that never comes. The built program where its process is the claim (a pipe that
// never ends, no crash out of memory, a 256 MB heap); xctl's code in this process for the rest
// (runXctl, as the program runs it: each spawned xctl costs about 0.7 CPU seconds to load).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XCTL_BIN as BIN, useBuiltXctl } from './built-xctl.js';
import { xctlInTest } from '../harness/xctl-in-process.js';

const H = 'apiVersion: xnet.io/v1alpha1';
const built = useBuiltXctl();
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'xctl-hostile-')); });
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const env = () => ({ XCTL_ENDPOINTS: built.etcd.endpoints.join(',') });
// the kill (or abort, as Ctrl-C) after 30 s only ends an xctl that hangs (the failure this file is about); no assertion is timed
const xctl = (args: string[]) => xctlInTest(args, { env: env(), timeoutMs: 30_000 });
/** the built program, `node` given `nodeFlags` first */
const xctlBin = (args: string[], nodeFlags: string[] = []) => execa('node', [...nodeFlags, BIN, ...args], { reject: false, env: env(), timeout: 30_000 });
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const keys = async () => (await built.etcd.client().getAll().prefix('/xnet').keys()).sort();
const nodeDoc = (name: string) => `${H}\nkind: Node\nmetadata:\n  name: ${name}\n`;

describe('xctl apply -f of input that is no file or never ends', () => {
  it('refuses a FIFO named *.yaml in a directory instead of waiting for a writer, reading nothing of the directory', async () => {
    const d = join(dir, 'with-fifo');
    await execa('mkdir', [d]);
    writeFileSync(join(d, 'a.yaml'), nodeDoc('fifo-a'));
    expect((await execa('mkfifo', [join(d, 'b.yaml')], { reject: false })).exitCode).toBe(0);
    const before = await keys();
    // an xctl that waited for a writer would be aborted at 30 s: exit 130, not 2
    const r = await xctl(['apply', '-f', d]);
    expect(r.stderr).toContain(`${join(d, 'b.yaml')}: not a regular file (a FIFO); a directory's manifests must be files`);
    expect(r.stderr).toMatch(/nothing was written\n?$/);
    expect(r.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
  });

  it('stops reading a file or stdin that never ends at 16 MiB, exit 2, writing nothing', async () => {
    const before = await keys();
    const zero = await xctl(['apply', '-f', '/dev/zero']);
    expect(zero.stderr).toContain('/dev/zero: larger than 16 MiB, the most xctl reads from one file; split it');
    expect(zero.exitCode).toBe(2);
    const ok = file('ok.yaml', nodeDoc('endless-ok'));
    // `yes` writes until the pipe closes: the apply must end on its own
    const endless = await execa('sh', ['-c', `yes | node ${BIN} apply -f ${ok} -f -`], { reject: false, env: env(), timeout: 30_000 });
    expect(endless.stderr).toContain('<stdin>: larger than 16 MiB');
    expect(endless.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
  });
});

describe('xctl apply -f of one document too large to read', () => {
  it('refuses 16 MiB of one flow sequence or of deep nesting where it passes the bound, exit 2, no crash, nothing written', async () => {
    const before = await keys();
    const ok = file('bounds-ok.yaml', nodeDoc('bounds-ok'));
    // V8 aborted xctl out of memory on each (the yaml package composed 8 million nodes first)
    const flow = file('flow.yaml', `a: [${'1,'.repeat(8 * 1024 * 1024 - 4)}1]\n`);
    const deep = file('deep.yaml', `${nodeDoc('deep')}---\n${'['.repeat(8 * 1024 * 1024 - 64)}${']'.repeat(8 * 1024 * 1024 - 64)}\n`);
    const r = await xctlBin(['apply', '-f', ok, '-f', flow, '-f', deep]);
    expect(r.signal).toBeUndefined();
    expect(r.stderr).toContain(`${flow}:1:2000002: document 1: more than 2000000 keys, values and list entries in one document (a generated or corrupted file?); split it`);
    expect(r.stderr).toContain(`${deep}:6:101: document 2: nested more than 100 levels deep`);
    expect(r.stderr).toMatch(/nothing was written\n?$/);
    expect(r.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
  });
});

describe('xctl apply -f after a document too large to read', () => {
  it('goes on after a ... line, which ends it: the bare document after it is read, named and numbered, exit 2', async () => {
    const before = await keys();
    // 101 brackets pass the depth bound at once; a Nod (no such kind) follows the ... unopened by ---
    const ended = file('ended.yaml', `${nodeDoc('ended-a')}---\n${'['.repeat(101)}${']'.repeat(101)}\n...\n${H}\nkind: Nod\nmetadata:\n  name: ended-b\n`);
    const r = await xctl(['apply', '-f', ended]);
    expect(r.stderr).toContain(`${ended}:6:101: document 2: nested more than 100 levels deep`);
    expect(r.stderr).toMatch(new RegExp(`${ended}:9(:\\d+)?: document 3\\b.*Nod`));
    expect(r.stderr).toMatch(/nothing was written\n?$/);
    expect(r.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
  });
});

describe('xctl apply -f of a file of many documents', () => {
  it('holds no more than one empty document at a time: a million (4 MB) read in a 256 MB heap, exit 2, no crash', async () => {
    const f = file('empty-docs.yaml', '---\n'.repeat(1_000_000));
    const r = await xctlBin(['apply', '-f', f], ['--max-old-space-size=256']);
    expect(r.stderr).toBe(`error: invalid manifest: ${f}: no objects found\nnothing was written`);
    expect(r.exitCode).toBe(2);
  });
});

describe('xctl apply -f of objects followed by empty lines', () => {
  it('names the field of each object by file, document and line, exit 2, in a 256 MB heap (12 MiB of empty lines took over 1 GB)', async () => {
    const before = await keys();
    const padding = '\n'.repeat(6 * 1024 * 1024);
    const f = file('padded.yaml', `${nodeDoc('padded-a')}spec: {nope: 1}\n${padding}---\n${nodeDoc('padded-b')}spec: {podCIDR: x}\n${padding}`);
    const r = await xctlBin(['apply', '-f', f], ['--max-old-space-size=256']);
    expect(r.signal).toBeUndefined();
    expect(r.stderr).toContain(`${f}:5: document 1 (node/padded-a): spec.nope: unknown field`);
    expect(r.stderr).toContain(`${f}:${5 + 6 * 1024 * 1024 + 6}: document 2 (node/padded-b): spec.podCIDR: unknown field`);
    expect(r.stderr).toMatch(/nothing was written\n?$/);
    expect(r.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
  });
});

describe('xctl apply and diff of values YAML reads as no JSON value', () => {
  it('refuse a !!set of labels and a "__proto__" annotation at their lines, exit 2, writing nothing', async () => {
    const f = file('values.yaml', `${nodeDoc('values-a')}  labels: !!set {rack, row}\n---\n${nodeDoc('values-b')}  annotations:\n    __proto__: owner\n`);
    const before = await keys();
    const r = await xctl(['apply', '-f', f]);
    expect(r.stderr).toContain(`${f}:5: document 1 (node/values-a): metadata.labels: the tag !!set is not supported`);
    expect(r.stderr).toContain(`${f}:12: document 2 (node/values-b): metadata.annotations.__proto__: a key named "__proto__" cannot be stored`);
    expect(r.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
    const d = await xctl(['diff', '-f', f]);
    expect(d.stderr).toContain('metadata.labels: the tag !!set is not supported');
    expect(d.exitCode).toBe(2);
  });
});

describe('xctl apply of a %YAML 1.1 directive', () => {
  it('refuses it at its line, exit 2, writing nothing, instead of reading yes as a boolean', async () => {
    const f = file('yaml11.yaml', `%YAML 1.1\n---\n${nodeDoc('yaml11')}  labels:\n    enabled: yes\n`);
    const before = await keys();
    const r = await xctl(['apply', '-f', f]);
    expect(r.stderr).toContain(`${f}:1:1: document 1: %YAML 1.1: xctl reads YAML 1.2 only`);
    expect(r.stderr).not.toContain('must be a string');
    expect(r.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
  });
});

describe('xctl field paths of keys holding a dot or nothing', () => {
  it('apply and diff name a label under a dotted key and an empty key in brackets, exit 2, writing nothing', async () => {
    const f = file('dotted.yaml', `${nodeDoc('dotted')}  labels:\n    xnet.io/rack: 7\n    "": a\n`);
    const before = await keys();
    const r = await xctl(['apply', '-f', f]);
    expect(r.stderr).toContain(`${f}:6: document 1 (node/dotted): metadata.labels[xnet.io/rack]: must be a string, not a number`);
    expect(r.stderr).toContain(`${f}:7: document 1 (node/dotted): metadata.labels[""]: invalid label key`);
    expect(r.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
    const d = await xctl(['diff', '-f', f]);
    expect(d.stderr).toContain('metadata.labels[xnet.io/rack]: must be a string');
    expect(d.exitCode).toBe(2);
  });

  it('get names the field of a stored object that does not decode the same way when it skips the key', async () => {
    const key = '/xnet/registry/objects/nodes/stored-dotted';
    const bad = { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'stored-dotted', labels: { 'xnet.io/rack': 7 } } };
    await built.etcd.client().put(key).value(JSON.stringify(bad));
    try {
      const r = await xctl(['get', 'nodes']);
      expect(r.stderr).toContain(`warning: skipped ${key}: metadata.labels[xnet.io/rack]: `);
    } finally {
      await built.etcd.client().delete().key(key);
    }
  });
});

describe('xctl apply of a JSON file with a slip', () => {
  it('says how to mend a value in JSON, and names an unclosed bracket once where it opened, exit 2, writing nothing', async () => {
    const bad = { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'json-hint', labels: { rack: 5 } } };
    const f = file('hint.json', JSON.stringify(bad, null, 2));
    const before = await keys();
    const r = await xctl(['apply', '-f', f]);
    expect(r.stderr).toContain(`${f}:7: document 1 (node/json-hint): metadata.labels.rack: must be a string, not a number; write it as a string: "5"`);
    expect(r.stderr).not.toContain('YAML');
    expect(r.exitCode).toBe(2);
    const open = file('open.json', '{"apiVersion": "xnet.io/v1alpha1", "kind": "Node", "metadata": {"name": "open", "labels": [}}\n');
    const o = await xctl(['apply', '-f', open]);
    expect(o.stderr).toBe(`error: invalid manifest: ${open}:1:91: document 1: Flow sequence must end with a ] (opened here)\nnothing was written`);
    expect(o.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
  });
});

describe('xctl apply of a merge key naming an anchor of another document', () => {
  it('says anchors do not cross documents, at the alias, exit 2, writing nothing', async () => {
    const f = file('anchors.yaml', `${nodeDoc('anchor-a')}  labels: &common {rack: r1}\n---\n${nodeDoc('anchor-b')}  labels:\n    <<: *common\n`);
    const before = await keys();
    const r = await xctl(['apply', '-f', f]);
    expect(r.stderr).toBe(`error: invalid manifest: ${f}:12:9: document 2: metadata.labels.<<: *common: the anchor &common is set in document 1 (line 5), and anchors do not cross documents: write the values here, or put both objects in one List and share the anchor there\nnothing was written`);
    expect(r.exitCode).toBe(2);
    expect(await keys()).toEqual(before);
  });
});
