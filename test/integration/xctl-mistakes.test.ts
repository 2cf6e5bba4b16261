// Operators' usual slips in manifests, through the built `xctl` program against a real etcd:
// what it prints (file, document, line, field), its exit code, and that nothing is written.
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';

const BIN = resolve('dist/cmd/xctl.js');
const H = 'apiVersion: xnet.io/v1alpha1';
let etcd: TestEtcd;
let dir: string;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" first`);
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'xctl-mistakes-'));
});
afterAll(async () => { await etcd?.stop(); if (dir) rmSync(dir, { recursive: true, force: true }); });

const xctl = (args: string[]) => execa('node', [BIN, ...args], { reject: false, env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') } });
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
/** every key under /xnet, to compare before and after a refused apply */
const keys = async () => (await etcd.client().getAll().prefix('/xnet').keys()).sort();

describe('xctl apply of a manifest with mistakes', () => {
  beforeAll(async () => {
    const base = file('base.yaml', `${H}\nkind: ClusterNetwork\nmetadata: {name: pods}\nspec: {cidr: 10.76.0.0/16, hostPrefix: 24}\n---\n` +
      `${H}\nkind: Node\nmetadata: {name: host-1}\nspec: {address: 198.18.0.11}\n`);
    expect((await xctl(['apply', '-f', base])).exitCode).toBe(0);
  });

  it('reports a document that is invalid on its own and one that clashes with what is stored, in one run', async () => {
    const before = await keys();
    const f = file('two.yaml', `${H}\nkind: ClusterNetwork\nmetadata: {name: more}\nspec:\n  cidr: 10.76.128.0/17\n  hostPrefix: 24\n---\n` +
      `${H}\nkind: Node\nmetadata:\n  name: host-2\n  labels: {rack: 1}\n`);
    const r = await xctl(['apply', '-f', f]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${f}:5: document 1 (clusternetwork/more): spec.cidr: 10.76.128.0/17 overlaps ClusterNetwork "pods" (10.76.0.0/16)`);
    expect(r.stderr).toContain(`${f}:12: document 2 (node/host-2): metadata.labels.rack: must be a string, not a number; put the value in quotes`);
    expect(r.stderr).toMatch(/nothing was written$/m);
    expect(await keys()).toEqual(before);
  });

  it('reports the manifest\'s own problems, exit 2, when etcd cannot be reached to check the rest', async () => {
    const f = file('offline.yaml', `${H}\nkind: ClusterNetwork\nmetadata: {name: fine}\nspec: {cidr: 10.77.0.0/16, hostPrefix: 24}\n---\n${H}\nkind: Node\nmetadata: {name: Host_2}\n`);
    const r = await execa('node', [BIN, 'apply', '-f', f], { reject: false, env: { XCTL_ENDPOINTS: 'http://127.0.0.1:1' } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${f}:8: document 2 (node/Host_2): metadata.name: must be a DNS-1123 label`);
    expect(r.stderr).not.toContain('cannot reach etcd');
  });

  it('refuses a ClusterNetwork over the hosts\' underlay, naming the Node whose address it holds', async () => {
    const before = await keys();
    const f = file('underlay.yaml', `${H}\nkind: ClusterNetwork\nmetadata: {name: wide}\nspec:\n  cidr: 198.18.0.0/16\n  hostPrefix: 24\n`);
    const r = await xctl(['apply', '-f', f]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${f}:5: document 1 (clusternetwork/wide): spec.cidr: 198.18.0.0/16 holds 198.18.0.11, the spec.address of Node "host-1"`);
    expect(await keys()).toEqual(before);
  });
});
