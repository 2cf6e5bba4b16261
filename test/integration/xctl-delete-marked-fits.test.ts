// An object that waits for finalizers (a ContainerNic, HostSubnet or MacvlanNet: apply creates
// each with one) is deleted by marking it: its value is written again with a deletionTimestamp,
// and a ContainerNic's copy in its node's index too. Apply accepted such an object as large as
// one transaction holds, and then `xctl delete` refused it ("does not fit one etcd
// transaction", exit 2, also with --force): an object xctl made that xctl could not delete.
// Apply now keeps room for the mark, so what it accepts, delete can mark.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { startStoreEtcd, type TestEtcd } from '../harness/etcd.js';
import { runXctl } from '../../pkg/cli/program.js';
import { Keys } from '../../pkg/store/keys.js';

let etcd: TestEtcd;
let client: Etcd3;
let dir: string;
const keys = new Keys();
beforeAll(async () => {
  ({ etcd, client } = await startStoreEtcd());
  dir = mkdtempSync(join(tmpdir(), 'xctl-marked-fits-'));
});
afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function xctl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; }, stdin: async () => '', env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
  });
  return r;
}

const V = 'apiVersion: xnet.io/v1alpha1';
const SPECS = {
  ContainerNic: 'spec: {node: h1, container: c, ifName: eth1, network: {clusterNetwork: cn}}',
  HostSubnet: 'spec: {node: h2, clusterNetwork: cn}',
  MacvlanNet: 'spec: {subnet: 198.19.200.0/24, parent: eth0}',
} as const;
type Kind = keyof typeof SPECS;
function manifest(kind: Kind, blob: number): string {
  const f = join(dir, `${kind}.yaml`);
  writeFileSync(f, `${V}\nkind: ${kind}\nmetadata:\n  name: edge\n  annotations: {blob: ${'b'.repeat(blob)}}\n${SPECS[kind]}\n`);
  return f;
}

/** The largest annotation apply (a dry run) accepts on the object, by bisection between lo (accepted) and hi (refused). */
async function largestAccepted(kind: Kind, lo: number, hi: number): Promise<number> {
  expect((await xctl(['apply', '--dry-run', '-f', manifest(kind, lo)])).code).toBe(0);
  expect((await xctl(['apply', '--dry-run', '-f', manifest(kind, hi)])).code).toBe(2);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await xctl(['apply', '--dry-run', '-f', manifest(kind, mid)])).code === 0) lo = mid;
    else hi = mid;
  }
  return lo;
}

describe('an object apply accepts at the edge of one transaction', () => {
  beforeAll(async () => {
    const cn = join(dir, 'cn.yaml');
    writeFileSync(cn, `${V}\nkind: ClusterNetwork\nmetadata:\n  name: cn\nspec: {cidr: 10.64.0.0/16, hostPrefix: 24}\n`);
    expect((await xctl(['apply', '-f', cn])).code).toBe(0);
  });

  // a ContainerNic's value is written twice (the object and its node's copy): half the room
  it.each([
    ['ContainerNic', 700_000, 900_000],
    ['HostSubnet', 1_400_000, 1_600_000],
    ['MacvlanNet', 1_400_000, 1_600_000],
  ] as const)('%s: delete marks it, exit 0', async (kind, lo, hi) => {
    const blob = await largestAccepted(kind, lo, hi);
    // one byte more is refused at apply, saying why
    const more = await xctl(['apply', '--dry-run', '-f', manifest(kind, blob + 1)]);
    expect(more.code).toBe(2);
    expect(more.err).toMatch(/document 1 \(\w+\/edge\): does not fit one etcd transaction \(once marked for deletion, about \d+ bytes > --max-request-bytes 1572864\)\nnothing was written\n$/);
    const f = manifest(kind, blob);
    expect(await xctl(['apply', '-f', f])).toMatchObject({ code: 0, out: `${kind.toLowerCase()}/edge created\n` });
    const d = await xctl(['delete', '-f', f]);
    expect(d.err).toBe('');
    expect(d).toMatchObject({ code: 0, out: `${kind.toLowerCase()}/edge deleted\n` });
    const stored = JSON.parse((await client.get(keys.object(kind, 'edge')).string())!);
    expect(stored.metadata.deletionTimestamp).toBeDefined();
  }, 60_000);
});
