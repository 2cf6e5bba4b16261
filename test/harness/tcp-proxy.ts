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
    },
  };
}
