// The lease keep-alive watchdog's give-up (pkg/etcd/lease-watchdog.ts) runs off a timer: a
// failure in it must not become an unhandled rejection, which ends the process (an agent, a
// controller), and the stream must still be made again (etcd3's handleKeepaliveError). etcd3's
// Lease is stood in for by what the watchdog uses of it; no etcd is involved.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rememberKeepAliveHost, watchKeepAlive, type KeepAlivePool } from '../../pkg/etcd/lease-watchdog.js';

const rejections: unknown[] = [];
/** ends a test's wait for handleKeepaliveError: the give-up rejected before it got there */
let rejected: (() => void) | undefined;
const onRejection = (reason: unknown) => { rejections.push(reason); rejected?.(); };
afterEach(() => { process.off('unhandledRejection', onRejection); rejections.length = 0; rejected = undefined; });

/** What watchKeepAlive uses of etcd3's Lease; `failed` is called as etcd3's handleKeepaliveError. */
function leaseWith(failed: (err: Error) => void) {
  return Object.assign(new EventEmitter(), {
    client: { leaseKeepAlive: async (): Promise<object> => ({}) },
    handleKeepaliveError: failed,
    revoked: () => false,
  });
}

/**
 * Arms the watchdog on a stream of member "m1" of `hosts` (two unless given), fires a keep-alive that gets no answer,
 * and resolves with what handleKeepaliveError was given (or an error saying it was not called:
 * the give-up rejected first), once the rejections of that turn had their chance to surface.
 */
async function giveUpWith(pool: Omit<KeepAlivePool, 'hosts'>, failed: (err: Error) => void = () => undefined, hosts: unknown[] = ['m1', 'm2']): Promise<Error> {
  process.on('unhandledRejection', onRejection);
  let handed!: (e: Error) => void;
  const handedOver = new Promise<Error>((r) => { handed = r; });
  const lease = leaseWith((err) => { handed(err); failed(err); });
  watchKeepAlive(lease as never, 0.4, { hosts, ...pool });
  // the stream as the lease opens it through the client (the watchdog's wrapper records it)
  rememberKeepAliveHost(await lease.client.leaseKeepAlive(), 'm1');
  lease.emit('keepaliveFired');
  const err = await Promise.race([handedOver, new Promise<Error>((r) => { rejected = () => r(new Error('no handleKeepaliveError: the give-up rejected')); })]);
  // a rejection is reported once the microtasks of its turn ran: two turns later it has been
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  return err;
}

describe('the lease watchdog giving up a keep-alive stream', () => {
  it('opens the circuit of a member that does not answer, and has etcd3 make the stream again', async () => {
    const markFailed = vi.fn();
    const err = await giveUpWith({ markFailed, answers: async () => false });
    expect(err.message).toMatch(/^lease keep-alive not answered within 100 ms/);
    expect(markFailed.mock.calls.map(([host]) => host)).toEqual(['m1', 'm1', 'm1']);
    expect(rejections).toEqual([]);
  });

  it('of a lone member (one endpoint, one VIP) asks nothing and opens no circuit: the stream is made again on it', async () => {
    const markFailed = vi.fn();
    const answers = vi.fn(async () => false);
    const err = await giveUpWith({ markFailed, answers }, undefined, ['m1']);
    expect(err.message).toMatch(/^lease keep-alive not answered/);
    expect(answers).not.toHaveBeenCalled();
    expect(markFailed).not.toHaveBeenCalled();
    expect(rejections).toEqual([]);
  });

  it('a markFailed that throws: the error still goes to handleKeepaliveError, nothing rejects', async () => {
    const markFailed = vi.fn(() => { throw new Error('pool broke'); });
    const err = await giveUpWith({ markFailed, answers: async () => false });
    expect(markFailed).toHaveBeenCalled();
    expect(err.message).toMatch(/^lease keep-alive not answered/);
    expect(rejections).toEqual([]);
  });

  it('an answers() that rejects counts as answering: no circuit opened, the stream made again', async () => {
    const markFailed = vi.fn();
    const err = await giveUpWith({ markFailed, answers: () => Promise.reject(new Error('asked badly')) });
    expect(err.message).toMatch(/^lease keep-alive not answered/);
    expect(markFailed).not.toHaveBeenCalled();
    expect(rejections).toEqual([]);
  });

  it('a handleKeepaliveError that throws (a keepaliveFailed listener did) rejects nothing', async () => {
    await giveUpWith({ markFailed: () => undefined, answers: async () => false }, () => { throw new Error('listener threw'); });
    expect(rejections).toEqual([]);
  });
});
