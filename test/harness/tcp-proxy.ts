<<<<<<< HEAD
// A TCP proxy in front of a real etcd, for faults at a chosen moment (in the spirit of
// microsoft/etcd3's tests): requests can be held for a while before they are forwarded, and
// cut() drops whatever is held, closes every connection and refuses new ones.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** drops held requests, closes every connection, refuses new ones */
  cut(): void;
  close(): Promise<void>;
}

/** `holdMs`: how long client-to-server data waits before it is forwarded (0: at once). */
export async function startTcpProxy(target: { host: string; port: number }, opts: { holdMs?: number } = {}): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) { client.destroy(); return; }
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const forward = (chunk: Buffer) => {
      if (!opts.holdMs) { upstream.write(chunk); return; }
      const t = setTimeout(() => { timers.delete(t); if (!cut) upstream.write(chunk); }, opts.holdMs);
      timers.add(t);
    };
    client.on('data', forward);
    upstream.on('data', (chunk) => { if (!cut) client.write(chunk); });
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut() {
      cut = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
    },
    async close() {
      this.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
=======
// A TCP proxy between a client and a server (etcd), for fault tests: cut() drops every open
// connection and refuses new ones until heal(). Reused by the chaos suite.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** host:port clients dial instead of the target */
  readonly endpoint: string;
  /** connections accepted so far (a client that reconnected shows as more than one) */
  readonly accepted: number;
  /** drops every open connection; new ones are closed at once until heal() */
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

/** Proxies a free loopback port to `target` ("host:port" or "http://host:port"). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = target.replace(/^\w+:\/\//, '').split(':');
  const open = new Set<Socket>();
  let isCut = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (isCut) { client.destroy(); return; }
    accepted++;
    const upstream = connect(Number(port), host);
    const pair = [client, upstream];
    for (const s of pair) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => { open.delete(s); for (const o of pair) o.destroy(); });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('proxy has no TCP address');
  return {
    endpoint: `127.0.0.1:${addr.port}`,
    get accepted() { return accepted; },
    cut() { isCut = true; for (const s of open) s.destroy(); },
    heal() { isCut = false; },
    close() {
      isCut = true;
      for (const s of open) s.destroy();
      return new Promise((r) => server.close(() => r()));
>>>>>>> e004ef3 (store: decode every key read (list, get, watch) against its kind's spec/status schema, skip and report what does not decode (ListResult.skipped, warning log); watches ride on the KvCache, which relists on any cancel (compaction's empty reason included), resumes after a cut connection from the last delivered revision, with bounded backoff; tests with compaction and a TCP proxy (issue 8 parts 1 and 6))
    },
  };
}
