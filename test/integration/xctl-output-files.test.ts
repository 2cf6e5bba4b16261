// `xctl get -o jsonpath=` unions, `-o jsonpath-file=PATH` and `-o custom-columns-file=PATH`, as a
// kubectl user scripts them, against a real etcd, in-process through runXctl: what the user sees
// (stdout, exit code, stderr). The template language is test/unit/jsonpath.test.ts's.
import { beforeAll, describe, expect, it } from 'vitest';
import { xctlInProcess, type XctlOptions } from '../harness/xctl-in-process.js';

const lab = xctlInProcess('xnet-output-files');
const xctl = (args: string[], opts?: XctlOptions) => lab.xctl(args, opts);

const V = 'apiVersion: xnet.io/v1alpha1';
const node = (name: string, address: string) => `${V}\nkind: Node\nmetadata:\n  name: ${name}\n  labels: {rack: r-${name}}\nspec: {address: ${address}}\n`;
const seed = [node('of-1', '198.18.0.11'), node('of-2', '198.18.0.12'), node('of-3', '198.18.0.13')].join('---\n');

beforeAll(async () => {
  expect((await xctl(['apply', '-f', '-'], { stdin: seed })).code).toBe(0);
});

describe('get -o jsonpath= unions', () => {
  it('[0,2] and [\'a\',\'b\'] print what kubectl prints', async () => {
    expect(await xctl(['get', 'no', '-o', 'jsonpath={.items[0,2].metadata.name}'])).toEqual({ code: 0, out: 'of-1 of-3', err: '' });
    expect(await xctl(['get', 'no', 'of-2', '-o', "jsonpath={.metadata['name','labels']}"])).toEqual({ code: 0, out: 'of-2 {"rack":"r-of-2"}', err: '' });
  });

  it('a bad member is a usage error naming its character, etcd not read', async () => {
    const r = await xctl(['get', 'no', '-o', 'jsonpath={.items[0,x]}'], { endpoints: 'http://127.0.0.1:1' });
    expect(r).toEqual({ code: 2, out: '', err: 'error: error parsing jsonpath "{.items[0,x]}": invalid array index "x" at character 11\n' });
  });
});

describe('get -o jsonpath-file=PATH', () => {
  it('runs the file\'s template, its text kept as it is (the file\'s last newline printed)', async () => {
    const path = lab.file('names.tmpl', '{range .items[*]}{.metadata.name}={.spec.address}{"\\n"}{end}---\n');
    expect(await xctl(['get', 'no', '-o', `jsonpath-file=${path}`])).toEqual({ code: 0, err: '', out: 'of-1=198.18.0.11\nof-2=198.18.0.12\nof-3=198.18.0.13\n---\n' });
    expect((await xctl(['get', 'events', '-o', `jsonpath-file=${lab.file('ev.tmpl', '{.kind}')}`])).out).toBe('List');
  });

  it('a missing or unreadable file, or none given, is a usage error naming it, exit 2, etcd not read', async () => {
    const down = { endpoints: 'http://127.0.0.1:1' };
    const missing = `${lab.dir}/nope.tmpl`;
    expect(await xctl(['get', 'no', '-o', `jsonpath-file=${missing}`], down)).toEqual({ code: 2, out: '', err: `error: -o jsonpath-file: cannot read "${missing}": no such file or directory\n` });
    expect(await xctl(['get', 'no', '-o', `jsonpath-file=${lab.dir}`], down)).toEqual({ code: 2, out: '', err: `error: -o jsonpath-file: cannot read "${lab.dir}": a directory, not a file\n` });
    expect(await xctl(['get', 'events', '-o', `jsonpath-file=${missing}`], down)).toMatchObject({ code: 2, err: `error: -o jsonpath-file: cannot read "${missing}": no such file or directory\n` });
    expect(await xctl(['get', 'no', '-o', 'jsonpath-file'], down)).toEqual({ code: 2, out: '', err: 'error: jsonpath-file format specified but no file given: use -o jsonpath-file=PATH\n' });
    // a file that never ends is read no further than a template could be
    expect(await xctl(['get', 'no', '-o', 'jsonpath-file=/dev/zero'], down)).toEqual({ code: 2, out: '', err: 'error: -o jsonpath-file: "/dev/zero" is larger than 1 MiB, too large for a template\n' });
    const bad = lab.file('bad.tmpl', '{.items[0');
    expect(await xctl(['get', 'no', '-o', `jsonpath-file=${bad}`], down)).toEqual({ code: 2, out: '', err: 'error: error parsing jsonpath "{.items[0": unterminated "[": no "]" at character 8\n' });
  });
});

describe('get -o custom-columns-file=PATH', () => {
  it('a line of headers, a line of field paths, as kubectl reads them', async () => {
    const path = lab.file('cols.txt', 'NAME    ADDRESS        RACK\n.metadata.name   spec.address {.metadata.labels.rack}\n');
    expect(await xctl(['get', 'no', 'of-1', 'of-3', '-o', `custom-columns-file=${path}`])).toEqual({
      code: 0, err: '', out: 'NAME   ADDRESS       RACK\nof-1   198.18.0.11   r-of-1\nof-3   198.18.0.13   r-of-3\n',
    });
  });

  it('a missing file, headers and paths that do not pair, exit 2 naming the file', async () => {
    const down = { endpoints: 'http://127.0.0.1:1' };
    const missing = `${lab.dir}/nope.txt`;
    expect(await xctl(['get', 'no', '-o', `custom-columns-file=${missing}`], down)).toEqual({ code: 2, out: '', err: `error: -o custom-columns-file: cannot read "${missing}": no such file or directory\n` });
    const uneven = lab.file('uneven.txt', 'NAME IP\n.metadata.name\n');
    expect(await xctl(['get', 'no', '-o', `custom-columns-file=${uneven}`], down)).toEqual({ code: 2, out: '', err: `error: custom-columns file "${uneven}": number of headers (2) and field paths (1) don't match\n` });
  });
});
