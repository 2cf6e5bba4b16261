// A TCP proxy in front of a real etcd, for faults at a chosen moment (in the spirit of
// microsoft/etcd3's tests): requests can be held for a while before they are forwarded;
// cut() drops whatever is held, closes every connection and refuses new ones until heal().
// loseReplies() lets a request reach etcd and its answer get lost; dropConnections() closes
// every connection and goes on accepting. Used by the store's watch tests, the large-apply
// tests, the tests of writes sent twice, the cache's restart tests and the chaos suite.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Etcd3 } from 'etcd3';
import { callDeadlines } from '../../pkg/etcd/client.js';

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** connections accepted so far (a client that reconnected shows as more than one) */
  readonly accepted: number;
  /** gRPC calls clients opened through the proxy so far (the HEADERS frames of plain-text HTTP/2) */
  readonly requests: number;
  /** connections refused while cut (a client that tried to reach etcd then) */
  readonly refused: number;
  /** drops held requests, closes every connection, refuses new ones (until heal()) */
  cut(): void;
  /** accepts connections again after a cut */
  heal(): void;
  /** closes every connection now, as cut() does, but goes on accepting new ones (a member or proxy that drops what it accepted) */
  dropConnections(): void;
  /**
   * From now on etcd's replies are dropped; after `ms`, every connection is closed and new
   * ones are accepted: what a client sent meanwhile reached etcd, its answer never came.
   */
  loseReplies(ms: number): Promise<void>;
  close(): Promise<void>;
}

type Target = { host: string; port: number } | string;

function parseTarget(t: Target): { host: string; port: number } {
  if (typeof t !== 'string') return t;
  const [host, port] = t.replace(/^\w+:\/\//, '').split(':');
  return { host, port: Number(port) };
}

const HTTP2_PREFACE_BYTES = 24;
const HTTP2_FRAME_HEAD_BYTES = 9;
const HTTP2_HEADERS = 0x1;

/**
 * Counts the HTTP/2 HEADERS frames in what a client sends (gRPC opens each call, unary or
 * stream, with one; pings and data are other frames). Frames may span chunks.
 */
function http2HeadersCounter(onHeaders: () => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let skip = HTTP2_PREFACE_BYTES;
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, pending.length);
        pending = pending.subarray(n);
        skip -= n;
        if (skip > 0) return;
      }
      if (pending.length < HTTP2_FRAME_HEAD_BYTES) return;
      if (pending[3] === HTTP2_HEADERS) onHeaders();
      skip = pending.readUIntBE(0, 3) + HTTP2_FRAME_HEAD_BYTES;
    }
  };
}

/**
 * `target`: {host, port} or "http://host:port". `holdMs`: how long client-to-server data
 * waits before it is forwarded (0: at once); `replyHoldMs` the same for etcd's answers, so that
 * a test that sees a write committed (by a watch of its own) can still lose its answer.
 */
export async function startTcpProxy(target: Target, opts: { holdMs?: number; replyHoldMs?: number } = {}): Promise<TcpProxy> {
  const to = parseTarget(target);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let cut = false;
  let losing = false;
  let accepted = 0;
  let requests = 0;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (cut) { refused++; client.destroy(); return; }
    accepted++;
    const upstream = connect(to.port, to.host);
    sockets.add(client).add(upstream);
    client.on('data', http2HeadersCounter(() => { requests++; }));
    const held = (ms: number | undefined, pass: () => void) => {
      if (!ms) { pass(); return; }
      const t = setTimeout(() => { timers.delete(t); pass(); }, ms);
      timers.add(t);
    };
    client.on('data', (chunk: Buffer) => held(opts.holdMs, () => { if (!cut) upstream.write(chunk); }));
    upstream.on('data', (chunk: Buffer) => held(opts.replyHoldMs, () => { if (!cut && !losing) client.write(chunk); }));
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cutAll = () => {
    cut = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    for (const s of sockets) s.destroy();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get accepted() { return accepted; },
    get requests() { return requests; },
    get refused() { return refused; },
    cut: cutAll,
    heal() { cut = false; },
    dropConnections() {
      cutAll();
      cut = false;
    },
    async loseReplies(ms: number) {
      losing = true;
      await new Promise((r) => setTimeout(r, ms));
      cutAll();
      losing = false;
      cut = false;
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy in front of an etcd member and a client that reaches etcd only through it (short deadlines, so a cut shows fast). */
export async function proxiedEtcdClient(target: Target): Promise<{ proxy: TcpProxy; client: Etcd3 }> {
  const proxy = await startTcpProxy(target);
  return { proxy, client: new Etcd3({ hosts: proxy.endpoint, dialTimeout: 2000, defaultCallOptions: callDeadlines(3000) }) };
}
