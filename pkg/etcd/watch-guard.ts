// etcd3 1.1.2 throws from its watch stream's 'data' listener when a response names a watch it
// no longer tracks ("Failed to find watcher for IWatchResponse"), and nothing can catch that
// throw: it reaches the process as an unhandled error, and an xnet daemon then exits
// (UNCAUGHT_EXIT_CODE) to be restarted. Such a response is normal in etcd's protocol: events
// or a cancel already in flight for a watch the client has just cancelled or dropped (the
// cache stops its watchers whenever it restarts, test/integration/node-view.test.ts hit it
// once under load). Nobody listens to that watch any more, so the response carries nothing
// to deliver; it is dropped here, counted and logged once, instead of ending the process.
import { WatchManager } from 'etcd3/lib/watch.js';

type Response = { watch_id?: string | number };
type Manager = { watchers: Array<{ id: string | number | null }>; handleResponse(res: Response): void };

let dropped = 0;
let installed = false;
let onFirstDrop: ((watchId: string) => void) | undefined;

/** Responses for watches etcd3 no longer tracked, dropped since the guard was installed. */
export function strayWatchResponses(): number { return dropped; }

/** Installs the guard once per process; `log` hears of the first stray response. */
export function guardWatchResponses(log?: (watchId: string) => void): void {
  onFirstDrop ??= log;
  if (installed) return;
  installed = true;
  const proto = WatchManager.prototype as unknown as Manager;
  const original = proto.handleResponse;
  proto.handleResponse = function (this: Manager, res: Response) {
    if (!this.watchers.some((w) => w.id === res.watch_id)) {
      if (dropped++ === 0) onFirstDrop?.(String(res.watch_id));
      return;
    }
    original.call(this, res);
  };
}
