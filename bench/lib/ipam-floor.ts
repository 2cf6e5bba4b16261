// What etcd and its client alone cost for what the controller writes per NIC: the rate of
// the controller's transactions sent straight from the client, with no planning, cache or
// workers. bench/ipam prints it next to the controller's rate, so the part of the gap to a
// target that is the controller's own CPU is measured, not guessed.
import type { Etcd3, ICompare, IRequestOp } from 'etcd3';

/** A NIC's claim and controller status as the controller writes them (sizes matter, not content). */
function values(i: number): { claim: Buffer; status: Buffer } {
  const ip = `10.64.${(i >> 8) & 255}.${i & 255}`;
  const at = new Date().toISOString();
  return {
    claim: Buffer.from(JSON.stringify({ owner: { kind: 'ContainerNic', name: `nic-${i}`, uid: `0d3c2f8e-4a51-4c7e-9b1f-${String(i).padStart(12, '0')}` }, role: 'nic', ip, node: 'host-1' })),
    status: Buffer.from(JSON.stringify({
      observedGeneration: 1, ip, prefixLength: 18, gateway: '10.64.0.1', hostSubnet: 'host-1-default',
      conditions: [
        { type: 'Allocated', status: 'True', reason: 'Allocated', message: `${ip}/18 allocated`, lastTransitionTime: at },
        { type: 'Ready', status: 'False', reason: 'WaitingForAgent', message: `waiting for the agent of node "host-1" to put eth1 into container "c${i}"`, lastTransitionTime: at },
      ],
    })),
  };
}

const absent = (key: Buffer): ICompare => ({ key, target: 'Create', result: 'Equal', create_revision: 0 });

/**
 * One transaction of `count` NICs from `first`: per NIC 3 compares (claim and status absent,
 * the object unchanged: here absent too) and 2 puts (claim, status in the node's index), after
 * a guard compare.
 */
function nicTxn(prefix: string, guard: ICompare, first: number, count: number): { compare: ICompare[]; success: IRequestOp[] } {
  const compare: ICompare[] = [guard];
  const success: IRequestOp[] = [];
  for (let i = first; i < first + count; i++) {
    const claim = Buffer.from(`${prefix}/ipam/clusternetworks/default/addresses/${String(i).padStart(12, '0')}`);
    const object = Buffer.from(`${prefix}/registry/objects/containernics/nic-${i}`);
    const status = Buffer.from(`${prefix}/registry/bynode/host-1/status/controller/containernics/nic-${i}`);
    const v = values(i);
    compare.push(absent(claim), absent(status), absent(object));
    success.push({ request_put: { key: claim, value: v.claim } }, { request_put: { key: status, value: v.status } });
  }
  return { compare, success };
}

/**
 * NICs per second when `n` NICs' writes go straight from the client: `perTxn` NICs per
 * transaction, `inFlight` transactions at once, with a watch of the prefix taking every event
 * back (the controller's own echo). Builds each transaction just before sending it.
 */
export async function clientFloor(client: Etcd3, prefix: string, n: number, perTxn: number, inFlight: number): Promise<number> {
  const guardKey = Buffer.from(`${prefix}/election/controller`);
  await client.put(guardKey.toString()).value('floor');
  const created = (await client.get(guardKey.toString()).exec()).kvs[0].create_revision;
  const guard: ICompare = { key: guardKey, target: 'Create', result: 'Equal', create_revision: created };
  const watcher = await client.watch().prefix(`${prefix}/`).create();
  let events = 0;
  watcher.on('put', (kv) => { kv.key.toString(); events++; });
  try {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const first = next;
        next += perTxn;
        const r = await client.kv.txn({ ...nicTxn(prefix, guard, first, Math.min(perTxn, n - first)), failure: [] });
        if (!r.succeeded) throw new Error('floor transaction refused');
      }
    }));
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await watcher.cancel();
  }
}
