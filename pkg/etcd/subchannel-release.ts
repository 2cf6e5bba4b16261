// grpc-js 1.14 leaves a connection open, unused, until the server closes it, when it lets go of
// a subchannel (a connection to one address, shared by every channel with the same options
// through its subchannel pool) while that subchannel waits in its reconnect backoff. unref() to
// zero moves it to IDLE only from CONNECTING or READY; in TRANSIENT_FAILURE its backoff timer
// goes on, and if a channel asked it to connect meanwhile it does so when the timer ends,
// reaches READY and stays there, out of the pool, owned by nobody.
// etcd3 gets there on every etcd restart: after any recoverable failure on a member it closes
// all of that member's gRPC clients (Host.resetAllServices) and the next call makes new ones,
// so while etcd is down each call closes clients whose subchannel is in its backoff, and the
// pool lets go of it (a channel's close() sweeps the pool). Each restart of etcd left up to 11
// such connections in a process with one client (5 to 15 in earlier measurements; docs/faults.md,
// "Idle connections after an etcd restart"); the next restart closed them and left new ones.
// Keeping etcd3's reset (and its fast recovery: a new client dials at once, without the old
// one's backoff) and releasing the subchannel fully here fixes it at the source: a subchannel
// nobody holds never connects again (test/integration/etcd-restart-connections.test.ts).
import { Subchannel } from '@grpc/grpc-js/build/src/subchannel.js';

// connectivity states (grpc-js ConnectivityState)
const TRANSIENT_FAILURE = 3;
const IDLE = 0;

interface SubchannelInternals {
  refcount: number;
  continueConnecting: boolean;
  unref(): void;
  startConnecting(): void;
  stopBackoff(): void;
  transitionToState(from: number[], to: number): boolean;
}

let installed = false;
let active = false;

/** Whether releaseUnusedSubchannels() patched grpc-js (false before it ran, or on a grpc-js of another shape). */
export function subchannelReleaseInstalled(): boolean { return active; }

/** grpc-js's Subchannel prototype, or undefined when its shape is not the one patched here. */
function subchannelPrototype(): SubchannelInternals | undefined {
  const proto = Subchannel?.prototype as unknown as SubchannelInternals | undefined;
  const methods = ['unref', 'startConnecting', 'stopBackoff', 'transitionToState'] as const;
  return proto && methods.every((m) => typeof proto[m] === 'function') ? proto : undefined;
}

/**
 * Makes a subchannel that no channel or pool holds any more stop its reconnect backoff and
 * never connect again. Installed once per process; a grpc-js of another shape is left as is.
 */
export function releaseUnusedSubchannels(): void {
  if (installed) return;
  installed = true;
  const proto = subchannelPrototype();
  if (!proto) return;
  active = true;
  const { unref, startConnecting } = proto;
  proto.startConnecting = function (this: SubchannelInternals) {
    if (this.refcount > 0) startConnecting.call(this);
  };
  proto.unref = function (this: SubchannelInternals) {
    unref.call(this);
    if (this.refcount !== 0) return;
    // after grpc-js's own step to IDLE and any startConnecting() already queued, both on nextTick
    process.nextTick(() => {
      if (this.refcount !== 0) return;
      this.continueConnecting = false;
      this.stopBackoff();
      this.transitionToState([TRANSIENT_FAILURE], IDLE);
    });
  };
}
