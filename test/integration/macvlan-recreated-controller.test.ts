// A MacvlanNet deleted without its finalizer (removed by hand) while its controller is away,
// and applied again under the same name before the controller's garbage pass: its nodes' parts
// and pool counts from before are still in etcd when the controller plans the new MacvlanNet.
// With more nodes than one transaction holds (a small --max-txn-ops), some nodes' parts wait for
// a later transaction; the controller listed such a node in the new status key from the part it
// found (the old shim, the old pre-claims joined by every reader), and took a part equal to the
// old one as written (readers now ignore it: store/macvlan-parts.ts writtenSinceMacvlanCreated). At every
// revision since the MacvlanNet was made again, every address `xctl get` shows for a node is
// claimed for that node by this MacvlanNet, as its agent's IPAM plugin relies on. Real etcd and
// controller; each node's agent is its report.
import { describe, expect, it } from 'vitest';
import type { IKeyValue } from 'etcd3';
import { useMacvlanParts } from './macvlan-parts.js';
import { eventually } from './controller-helpers.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { rangePrefix } from '../../pkg/etcd/range.js';
import type { AnyObject, MacvlanNodeStatus } from '../../pkg/api/index.js';

const fx = useMacvlanParts({ maxTxnOps: 16 });
const MVN = 'remade';
const SPEC = { subnet: '10.88.0.0/24', gateway: '10.88.0.1', dockerIPAM: 'xnet', hostShim: true };
const NODES = Array.from({ length: 12 }, (_, i) => `rm-${String(i).padStart(2, '0')}`);

type Claim = { ip: string; node?: string; owner: { uid: string } };

/** What `xctl get` showed of the MacvlanNet at `revision`, and the address claims stored then. */
async function atRevision(revision: number): Promise<{ m?: AnyObject; claims: Claim[] }> {
  const { items } = await fx.store.snapshot('MacvlanNet', revision);
  const space = new IpamKeys(fx.prefix).space('macvlannets', MVN, 'addresses');
  const { kvs } = await rangePrefix(fx.etcd.client(), space, { revision });
  return { m: items.find((o) => o.metadata.name === MVN), claims: kvs.map((kv: IKeyValue) => JSON.parse(kv.value.toString()) as Claim) };
}

/** Each address the MacvlanNet's status shows for a node (its shim, its pre-claims) that no claim of its uid holds for that node. */
function unclaimedShown(m: AnyObject, claims: Claim[]): string[] {
  const held = new Set(claims.filter((c) => c.owner.uid === m.metadata.uid).map((c) => `${c.node}|${c.ip}`));
  const nodes = ((m.status as { nodes?: MacvlanNodeStatus[] } | undefined)?.nodes ?? []);
  return nodes.flatMap((n) => [...(n.shimAddress ? [n.shimAddress] : []), ...(n.addresses ?? [])]
    .filter((ip) => !held.has(`${n.name}|${ip}`)).map((ip) => `${n.name} ${ip}`));
}

/**
 * With the controller away: MacvlanNet `name`'s finalizer removed by hand, the MacvlanNet deleted
 * (at once, with its status key only) and applied again. Returns its key's new create_revision.
 */
async function deleteAndApplyAgain(name: string, spec: Record<string, unknown>, label: string, nodes: string[]): Promise<number> {
  const keys = fx.store.keys;
  const objectKey = keys.object('MacvlanNet', name);
  await fx.stopController();
  const stored = JSON.parse((await fx.etcd.client().get(objectKey).string())!) as AnyObject;
  delete stored.metadata.finalizers;
  await fx.etcd.client().put(objectKey).value(JSON.stringify(stored));
  expect(await fx.store.delete('MacvlanNet', name)).toBe(true);
  expect(await fx.store.get('MacvlanNet', name)).toBeUndefined();
  const left = await fx.etcd.client().getAll().prefix(keys.nodeIndexRoot()).keys();
  expect(left.filter((k) => keys.parseMacvlanPart(k)?.name === name)).toHaveLength(nodes.length);
  await fx.segment(name, spec, label, nodes);
  return Number((await fx.etcd.client().get(objectKey).exec()).kvs[0].create_revision);
}

describe('a MacvlanNet deleted without its finalizer and applied again before the garbage pass', () => {
  it("shows for each node only addresses claimed for it by the new MacvlanNet, at every revision, and every node's part", async () => {
    await fx.segment(MVN, SPEC, 'rm', NODES);
    for (const n of NODES) await fx.firstAtHand(MVN, n);
    const created = await deleteAndApplyAgain(MVN, SPEC, 'rm', NODES);
    // the delete took the agents' reports; they report again
    for (const n of NODES) await fx.report(MVN, n, {});
    await fx.startController();
    await eventually(async () => {
      const parts = await fx.parts(MVN);
      return parts.length === NODES.length && parts.every((p) => p.ready && p.addresses?.length);
    }, "every node's new part, ready with addresses at hand", 60_000);

    const now = await fx.store.revision();
    const seen: string[] = [];
    for (let rev = created; rev <= now; rev++) {
      const { m, claims } = await atRevision(rev);
      if (m) seen.push(...unclaimedShown(m, claims).map((x) => `revision ${rev}: ${x}`));
    }
    expect(seen).toEqual([]);
    await fx.expectClean();
  }, 180_000);

  it('writes each node its part anew, also one that reads as the old one did', async () => {
    // no shim and no agent: each node's part only says that it waits for its agent, the same for both
    const name = 'remade-idle';
    const spec = { subnet: '10.89.0.0/24', gateway: '10.89.0.1', dockerIPAM: 'xnet', hostShim: false };
    const nodes = ['ri-0', 'ri-1', 'ri-2', 'ri-3'];
    await fx.segment(name, spec, 'ri', nodes);
    const said = (parts: Array<{ name: string; message?: string }>) => nodes.map((n) => parts.find((p) => p.name === n)?.message);
    const before = said(await eventually(async () => {
      const parts = await fx.parts(name);
      return parts.length === nodes.length && parts.every((p) => p.message) && parts;
    }, "every node's part"));
    await deleteAndApplyAgain(name, spec, 'ri', nodes);
    await fx.startController();
    await eventually(async () => {
      const now = said(await fx.parts(name));
      return JSON.stringify(now) === JSON.stringify(before) || undefined;
    }, `every node's part saying again ${JSON.stringify(before)}`, 20_000);
  }, 120_000);
});
