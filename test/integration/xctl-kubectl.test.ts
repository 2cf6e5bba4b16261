// What a kubectl user types, against a real etcd, in-process through runXctl: several names,
// KIND/NAME, -o name, a name with a selector. Each case is what the user sees (exit code,
// stdout, stderr) and, for writes, what etcd holds after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { runXctl } from '../../pkg/cli/program.js';

let etcd: TestEtcd;
let store: EtcdStore;

const V = 'apiVersion: xnet.io/v1alpha1';
const nodeDoc = (name: string, role: string) => `${V}\nkind: Node\nmetadata:\n  name: ${name}\n  labels: {role: ${role}}\nspec: {}\n`;

beforeAll(async () => {
  etcd = await startEtcd();
  store = createEtcdStore(etcd.client());
  const seeded = await xctl(['apply', '-f', '-'], { stdin: `${nodeDoc('k-1', 'master')}---\n${nodeDoc('k-2', 'linecard')}---\n${nodeDoc('k-3', 'linecard')}` });
  expect(seeded.code).toBe(0);
});
afterAll(async () => {
  await etcd?.stop();
});

interface Run { code: number; out: string; err: string }
async function xctl(args: string[], opts: { stdin?: string } = {}): Promise<Run> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; },
    err: (t) => { r.err += t; },
    stdin: async () => opts.stdin ?? '',
    env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
  });
  return r;
}

const names = (out: string) => out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]);

describe('get KIND NAME...', () => {
  it('shows every named object, in the order given', async () => {
    const r = await xctl(['get', 'no', 'k-3', 'k-1']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^NAME\s+ADDRESS\s+READY\s+AGE\n/);
    expect(names(r.out)).toEqual(['k-3', 'k-1']);
  });

  it('prints the ones that exist, names each missing one on stderr, exits 4', async () => {
    const r = await xctl(['get', 'no', 'k-1', 'nope', 'k-2']);
    expect(r.code).toBe(4);
    expect(names(r.out)).toEqual(['k-1', 'k-2']);
    expect(r.err).toBe('error: Node "nope" not found\n');
  });

  it('-o json: one object for one name, a List for several', async () => {
    const one = JSON.parse((await xctl(['get', 'no', 'k-1', '-o', 'json'])).out);
    expect(one).toMatchObject({ kind: 'Node', metadata: { name: 'k-1' } });
    const several = JSON.parse((await xctl(['get', 'no', 'k-1', 'k-2', '-o', 'json'])).out);
    expect(several.kind).toBe('List');
    expect(several.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['k-1', 'k-2']);
  });
});
