// Sees every etcd watcher a client makes (a KvCache's among them) the moment it is made, before
// anyone listens to it, so that a test can act on its events first: break the connection once
// etcd has made a watch, say.
import type { Etcd3, Watcher } from 'etcd3';

/** Calls `onWatcher` with every watcher the client makes and the key it watches. */
export function spyWatchers(client: Etcd3, onWatcher: (w: Watcher, key: string) => void): void {
  const watch = client.watch.bind(client);
  client.watch = () => {
    const b = watch();
    const make = b.watcher.bind(b);
    b.watcher = () => {
      const w = make();
      onWatcher(w, Buffer.from((w as unknown as { request: { key: Buffer } }).request.key).toString());
      return w;
    };
    return b;
  };
}
