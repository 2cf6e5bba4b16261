// A node's status of an object deleted and made again under the same name (a HostSubnet
// re-applied while the delete's clean-up of node statuses had not run) belongs to the old
// object: the merged view does not show it on the new one, and the agent reports the new one
// even when it would say the same. Found by review: the agent skipped the write (etcd held the
// same text), and the controller's sweep then deleted that status as the old object's, for good.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type HostSubnet } from '../../pkg/api/index.js';
import { NodeStatusReporter, ready } from '../../pkg/agent/context.js';
import { withStatus } from '../../pkg/store/merge.js';
import type { Store } from '../../pkg/store/index.js';

function memoryStore() {
  const kv = new Map<string, string>();
  let writes = 0;
  const store = {
    async writeStatus(kind: string, name: string, _w: { node: string }, st: unknown) { writes++; kv.set(`${kind}/${name}`, JSON.stringify(st)); },
    async deleteStatus(kind: string, name: string) { kv.delete(`${kind}/${name}`); },
  } as unknown as Store;
  return { store, kv, writes: () => writes };
}

const hostSubnet = (uid: string) => ({ apiVersion: API_VERSION, kind: 'HostSubnet', metadata: { name: 'hs1', uid, generation: 1 }, spec: { node: 'n1', clusterNetwork: 'cn', icc: true } }) as HostSubnet;
const waiting = { conditions: [{ type: 'Ready', status: 'False' as const, reason: 'WaitingForAgent', message: 'waiting', lastTransitionTime: '2030-01-01T00:00:00.000Z' }] };
const inPlace = () => ready('Docker network xnet-hs1 on bridge br2 is in place');

describe("a node's status of an earlier object of the same name", () => {
  it('is not merged into the new object, and the agent reports the new one', async () => {
    const m = memoryStore();
    const before = new NodeStatusReporter(m.store, 'n1', undefined, (k, n) => m.kv.get(`${k}/${n}`));
    await before.write('HostSubnet', hostSubnet('u1'), {}, inPlace());
    const stale = JSON.parse(m.kv.get('HostSubnet/hs1')!);
    expect(stale.objectUid).toBe('u1');

    // made again (uid u2); the agent restarted meanwhile
    const merged = withStatus(hostSubnet('u2'), waiting, new Map([['n1', stale]]));
    expect(merged.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'WaitingForAgent' });
    expect(withStatus(hostSubnet('u1'), waiting, new Map([['n1', stale]])).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    const after = new NodeStatusReporter(m.store, 'n1', undefined, (k, n) => m.kv.get(`${k}/${n}`));
    await after.write('HostSubnet', merged, {}, inPlace());
    expect(m.writes()).toBe(2);
    expect(JSON.parse(m.kv.get('HostSubnet/hs1')!).objectUid).toBe('u2');
  });

  it('a report without objectUid (an older agent) is merged as before', () => {
    const old = { conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Ready', message: 'ok', lastTransitionTime: '2030-01-01T00:00:00.000Z' }] };
    expect(withStatus(hostSubnet('u2'), waiting, new Map([['n1', old]])).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});

describe("whether this node has a report on an object (the agent's first HostSubnet report is written before its network)", () => {
  const stored = (text: string | undefined) => new NodeStatusReporter(memoryStore().store, 'n1', undefined, () => text);

  it('counts its own write, for that incarnation only', async () => {
    const r = new NodeStatusReporter(memoryStore().store, 'n1', undefined, () => undefined);
    expect(r.hasReport('HostSubnet', hostSubnet('u1'))).toBe(false);
    await r.write('HostSubnet', hostSubnet('u1'), {}, inPlace());
    expect(r.hasReport('HostSubnet', hostSubnet('u1'))).toBe(true);
    expect(r.hasReport('HostSubnet', hostSubnet('u2'))).toBe(false);
  });

  it('counts a marked report etcd holds for that incarnation (written before a restart)', () => {
    const r = stored(JSON.stringify({ keptUntilNetworkGone: true, objectUid: 'u1', conditions: [] }));
    expect(r.hasReport('HostSubnet', hostSubnet('u1'))).toBe(true);
    expect(r.hasReport('HostSubnet', hostSubnet('u2'))).toBe(false);
  });

  it("does not count an older agent's unmarked HostSubnet report, which keeps no block, nor one that does not decode", () => {
    expect(stored(JSON.stringify({ objectUid: 'u1', conditions: [] })).hasReport('HostSubnet', hostSubnet('u1'))).toBe(false);
    expect(stored('not json').hasReport('HostSubnet', hostSubnet('u1'))).toBe(false);
    expect(stored('null').hasReport('HostSubnet', hostSubnet('u1'))).toBe(false);
  });

  it('needs no mark on other kinds: the uid decides', () => {
    const nic = { metadata: { name: 'hs1', uid: 'u1' } };
    expect(stored(JSON.stringify({ objectUid: 'u1' })).hasReport('ContainerNic', nic)).toBe(true);
    expect(stored(JSON.stringify({ objectUid: 'u0' })).hasReport('ContainerNic', nic)).toBe(false);
  });
});
