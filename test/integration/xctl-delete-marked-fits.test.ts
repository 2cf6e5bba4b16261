// An object that waits for finalizers (a ContainerNic, HostSubnet or MacvlanNet: apply creates
// each with one) is deleted by marking it: its value is written again with a deletionTimestamp,
// and a ContainerNic's copy in its node's index too. Apply accepted such an object as large as
// one transaction holds, and then `xctl delete` refused it ("does not fit one etcd
// transaction", exit 2, also with --force): an object xctl made that xctl could not delete.
// Apply now keeps room for the mark, so what it accepts, delete can mark.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';
import { Keys } from '../../pkg/store/keys.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { TooLargeError } from '../../pkg/store/txn-writer.js';
import { NIC_FINALIZER } from '../../pkg/api/index.js';
import type { AnyObject } from '../../pkg/api/types.js';
import { obj } from './helpers.js';

const lab = xctlInProcess('xctl-marked-fits');
const xctl = (args: string[]) => lab.xctl(args);
const keys = new Keys();

const V = 'apiVersion: xnet.io/v1alpha1';
const SPECS = {
  ContainerNic: 'spec: {node: h1, container: c, ifName: eth1, network: {clusterNetwork: cn}}',
  HostSubnet: 'spec: {node: h2, clusterNetwork: cn}',
  MacvlanNet: 'spec: {subnet: 198.19.200.0/24, parent: eth0}',
} as const;
type Kind = keyof typeof SPECS;
function manifest(kind: Kind, blob: number, name = 'edge'): string {
  const f = join(lab.dir, `${kind}-${name}.yaml`);
  writeFileSync(f, `${V}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  annotations: {blob: ${'b'.repeat(blob)}}\n${SPECS[kind]}\n`);
  return f;
}

/**
 * The largest annotation apply (a dry run) accepts on the object, by bisection between lo
 * (accepted) and hi (refused). Names of one length make one edge (the same bytes): a kind's
 * edge found once is checked again (that size accepted, one byte more refused), not searched.
 */
const edges = new Map<Kind, number>();
async function largestAccepted(kind: Kind, lo: number, hi: number, name = 'edge'): Promise<number> {
  const known = edges.get(kind);
  if (known !== undefined && name.length === 'edge'.length) [lo, hi] = [known, known + 1];
  expect((await xctl(['apply', '--dry-run', '-f', manifest(kind, lo, name)])).code).toBe(0);
  expect((await xctl(['apply', '--dry-run', '-f', manifest(kind, hi, name)])).code).toBe(2);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await xctl(['apply', '--dry-run', '-f', manifest(kind, mid, name)])).code === 0) lo = mid;
    else hi = mid;
  }
  edges.set(kind, lo);
  return lo;
}

describe('an object apply accepts at the edge of one transaction', () => {
  beforeAll(async () => {
    const cn = join(lab.dir, 'cn.yaml');
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
    const stored = JSON.parse((await lab.client.get(keys.object(kind, 'edge')).string())!);
    expect(stored.metadata.deletionTimestamp).toBeDefined();
  }, 60_000);
});

// One stored by an older xctl, which kept no room for the mark: its delete is refused as too
// large, and a dry run, which "passes only when the delete would" (docs/xctl.md), said
// `deleted (dry run)`, exit 0. The dry run now packs its transactions as the delete does.
/**
 * Creates the largest ContainerNic `<prefix>-<blob>` a create (which keeps no room for the mark,
 * as an older xctl's apply) writes, a larger one refused writing nothing; returns its name. The
 * edge found once (prefixes of one length, blobs of six digits: the same bytes) is checked
 * again, not searched: one byte more is refused, then that size is created.
 */
let createdEdge: number | undefined;
async function largestCreated(prefix: string): Promise<string> {
  const store = createEtcdStore(lab.etcd.client());
  const old = (blob: number) => ({ ...obj('ContainerNic', `${prefix}-${blob}`, { node: 'h1', container: `${prefix}${blob}`, ifName: 'eth1', network: { clusterNetwork: 'cn' } }),
    metadata: { name: `${prefix}-${blob}`, annotations: { blob: 'o'.repeat(blob) }, finalizers: [NIC_FINALIZER] } }) as AnyObject;
  const created = (blob: number) => store.create(old(blob)).then(() => true, (e: unknown) => (e instanceof TooLargeError ? false : Promise.reject(e)));
  if (createdEdge !== undefined && prefix.length === 3) {
    expect(await created(createdEdge + 1)).toBe(false);
    expect(await created(createdEdge)).toBe(true);
    return `${prefix}-${createdEdge}`;
  }
  let lo = 700_000;
  let hi = 900_000;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await created(mid)) lo = mid;
    else hi = mid;
  }
  if (prefix.length === 3) createdEdge = lo;
  return `${prefix}-${lo}`;
}

describe('delete --dry-run of an object whose mark does not fit', () => {
  it('is refused as the delete is, and a large dry run says in how many transactions it would go', async () => {
    const name = await largestCreated('old');
    const real = await xctl(['delete', 'nic', name]);
    expect(real.code).toBe(2);
    expect(real.err).toContain('does not fit one etcd transaction');
    const dry = await xctl(['delete', 'nic', name, '--dry-run']);
    expect(dry).toEqual({ ...real, err: real.err.replace(/about \d+ bytes/, dry.err.match(/about \d+ bytes/)?.[0] ?? '') });

    // 200 NICs: one compare and two puts each when marked, 64 per transaction
    const many = join(lab.dir, 'many.yaml');
    writeFileSync(many, Array.from({ length: 200 }, (_, i) => `${V}\nkind: ContainerNic\nmetadata:\n  name: m-${i}\n${SPECS.ContainerNic.replace('container: c', `container: m${i}`)}\n`).join('---\n'));
    expect((await xctl(['apply', '-f', many])).code).toBe(0);
    const plan = await xctl(['delete', '-f', many, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.err).toBe('200 objects in 4 transactions: 200 deleted, 0 not found (dry run)\n');
    const done = await xctl(['delete', '-f', many]);
    expect(done.err).toBe('200 objects in 4 transactions: 200 deleted, 0 not found\n');
  }, 60_000);
});

// The room apply keeps is what the delete sends (the same plan): it refuses no object whose
// delete fits. It counted the in-use check's compares for every kind, a ContainerNic's delete
// too, which holds none: a NIC ~75 bytes short of its delete's limit was refused at apply,
// "once marked for deletion", though delete marked it.
describe('the largest object apply accepts', () => {
  it.each([['ContainerNic', 700_000, 900_000], ['HostSubnet', 1_400_000, 1_600_000]] as const)('%s: one byte more, its delete is refused too', async (kind, lo, hi) => {
    const name = 'ed2e';
    const blob = await largestAccepted(kind, lo, hi, name);
    const f = manifest(kind, blob, name);
    expect((await xctl(['apply', '-f', f])).code).toBe(0);
    // the same object one byte larger, as a write that keeps no room (an older xctl) stores it
    const key = keys.object(kind, name);
    const copies = [key, ...(kind === 'ContainerNic' ? [keys.indexed('h1', key)] : [])];
    for (const k of copies) {
      const v = (await lab.client.get(k).string())!;
      expect(v).toContain(`"blob":"${'b'.repeat(blob)}"`);
      await lab.client.put(k).value(v.replace(`"blob":"${'b'.repeat(blob)}"`, `"blob":"${'b'.repeat(blob + 1)}"`));
    }
    const d = await xctl(['delete', kind.toLowerCase(), name]);
    expect(d.err).toContain('does not fit one etcd transaction');
    expect(d.code).toBe(2);
  }, 60_000);
});

// The way out for one stored before apply kept room for the mark: the delete's refusal said only
// "does not fit one etcd transaction ...; nothing was written", which every re-run, --force
// too, repeats; it now says to apply the object smaller first, and that works.
describe('delete of an object stored too large to be marked', () => {
  it('says to apply it smaller first; after that apply, the delete marks it', async () => {
    const name = await largestCreated('big');
    const d = await xctl(['delete', 'nic', name, '--force']);
    expect(d.code).toBe(2);
    expect(d.err).toContain(`ContainerNic "${name}" does not fit one etcd transaction (about `);
    expect(d.err).toContain(`: its deletion mark (the object written again with a deletionTimestamp) does not fit; apply it smaller first (e.g. without its largest annotations), then delete it\n`);
    // the spec as stored (set once), without the annotation
    const stored = JSON.parse((await lab.client.get(keys.object('ContainerNic', name)).string())!);
    const smaller = join(lab.dir, 'big.yaml');
    writeFileSync(smaller, JSON.stringify({ apiVersion: stored.apiVersion, kind: 'ContainerNic', metadata: { name }, spec: stored.spec }));
    const applied = await xctl(['apply', '-f', smaller]);
    expect(applied.err).toBe('');
    expect(applied.code).toBe(0);
    expect(await xctl(['delete', 'nic', name])).toMatchObject({ code: 0, out: `containernic/${name} deleted\n` });
  }, 60_000);
});
