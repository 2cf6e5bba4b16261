// The plugin's HTTP server as Docker's plugin client uses it: one keep-alive connection on the
// unix socket, reused after any idle time, and a retry after a transport error that arrives
// with an empty body (moby pkg/plugins/client.go replays a consumed body reader).
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servePlugin, EMPTY_RETRY_MESSAGE, type IpamBackend, type PluginServer } from '../../pkg/dockeripam/server.js';

const backend: IpamBackend = {
  requestPool: async () => ({ PoolID: 'mv', Pool: '10.9.0.0/24' }),
  releasePool: async () => undefined,
  requestAddress: async (r) => { if (!r.PoolID) throw new Error('MacvlanNet  is not known on this node'); return '10.9.0.10/24'; },
  releaseAddress: async () => undefined,
};

/** A raw HTTP/1.1 keep-alive connection, like Go's http.Transport keeps to the plugin. */
class Conn {
  closedAt?: number;
  private buf = '';
  private constructor(readonly s: Socket) {
    s.on('data', (d) => { this.buf += String(d); });
    s.on('close', () => { this.closedAt = Date.now(); });
  }

  static open(path: string): Promise<Conn> {
    return new Promise((resolve, reject) => { const s = connect(path, () => resolve(new Conn(s))); s.once('error', reject); });
  }

  async post(path: string, body: string): Promise<unknown> {
    this.buf = '';
    this.s.write(`POST ${path} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const deadline = Date.now() + 5000;
    for (;;) {
      const body = httpBody(this.buf);
      if (body !== undefined) return JSON.parse(body);
      if (this.closedAt || Date.now() > deadline) throw new Error(`no answer to ${path} (connection ${this.closedAt ? 'closed' : 'open'})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** The body of a complete HTTP response (Content-Length or chunked), undefined while incomplete. */
function httpBody(raw: string): string | undefined {
  const at = raw.indexOf('\r\n\r\n');
  if (at < 0) return undefined;
  const head = raw.slice(0, at).toLowerCase();
  let rest = raw.slice(at + 4);
  const len = /content-length: (\d+)/.exec(head);
  if (len) return rest.length >= Number(len[1]) ? rest.slice(0, Number(len[1])) : undefined;
  let body = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return undefined;
    const size = parseInt(rest.slice(0, eol), 16);
    if (size === 0) return body;
    if (rest.length < eol + 2 + size + 2) return undefined;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

let server: PluginServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined; dir = undefined;
});

async function start(): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'xnet-ipam-server-'));
  server = await servePlugin(join(dir, 'xnet.sock'), backend);
  return server.socket;
}

describe('the IPAM plugin server speaks to Docker\'s plugin client', () => {
  it('keeps an idle connection open longer than Node\'s default keep-alive (5 s), so Docker reusing it is answered', async () => {
    const c = await Conn.open(await start());
    expect(await c.post('/IpamDriver.RequestAddress', '{"PoolID":"mv","Address":"","Options":null}')).toEqual({ Address: '10.9.0.10/24', Data: {} });
    await new Promise((r) => setTimeout(r, 6000));
    expect(c.closedAt).toBeUndefined();
    expect(await c.post('/IpamDriver.RequestAddress', '{"PoolID":"mv","Address":"","Options":null}')).toEqual({ Address: '10.9.0.10/24', Data: {} });
    c.s.destroy();
  }, 15_000);

  it('refuses an empty-bodied RequestAddress (Docker\'s retry after a failed connection) saying so', async () => {
    const c = await Conn.open(await start());
    const r = await c.post('/IpamDriver.RequestAddress', '') as { Error?: string };
    expect(r.Error).toContain(EMPTY_RETRY_MESSAGE);
    expect(r.Error).not.toContain('is not known');
    c.s.destroy();
  });
});
