// Which etcd members get a circuit (pkg/etcd/client.ts etcdFaultHandling): each of several, so
// that calls go to the others while one fails; none for a client of one endpoint, which has no
// other member to go to. Pure policy logic: the calls are stood in for, no etcd is involved.
import { describe, expect, it } from 'vitest';
import { GRPCResourceExhastedError, GRPCUnavailableError } from 'etcd3';
import { isBrokenCircuitError } from 'cockatiel';
import { etcdFaultHandling } from '../../pkg/etcd/client.js';
import { HOST_BREAKER_FAILURES } from '../../pkg/etcd/lease-watchdog.js';

/** Runs `calls` failing calls through one member's policy; says how many reached the member. */
async function reached(members: number, fault: () => Error, calls: number): Promise<{ reached: number; refused: number }> {
  const host = etcdFaultHandling(members).host!('127.0.0.1:2379');
  let n = 0;
  let refused = 0;
  for (let i = 0; i < calls; i++) {
    await host.execute(() => { n++; throw fault(); }).catch((e: unknown) => { if (isBrokenCircuitError(e)) refused++; });
  }
  return { reached: n, refused };
}

describe('etcd fault handling per member', () => {
  it('of several members, opens a member\'s circuit after HOST_BREAKER_FAILURES failures in a row', async () => {
    const got = await reached(3, () => new GRPCUnavailableError('connection dropped'), HOST_BREAKER_FAILURES + 2);
    expect(got).toEqual({ reached: HOST_BREAKER_FAILURES, refused: 2 });
  });

  it('of several members, does not count a response larger than the client takes', async () => {
    const got = await reached(3, () => new GRPCResourceExhastedError('Received message larger than max (5000000 vs. 4194304)'), HOST_BREAKER_FAILURES + 2);
    expect(got).toEqual({ reached: HOST_BREAKER_FAILURES + 2, refused: 0 });
  });

  it('of a single endpoint, sends every call to it however many failed before', async () => {
    const got = await reached(1, () => new GRPCUnavailableError('connection dropped'), HOST_BREAKER_FAILURES + 2);
    expect(got).toEqual({ reached: HOST_BREAKER_FAILURES + 2, refused: 0 });
  });
});
