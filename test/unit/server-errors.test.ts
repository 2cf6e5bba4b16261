// The daemons' two servers (the metrics endpoint, the IPAM plugin's socket) after they are
// listening: an 'error' event on the server (EMFILE when accepting, say) is logged and the
// server keeps serving. With no listener left, EventEmitter throws it: the daemon's last
// resort (exitOnUncaught) would end the process. node:http is passed through, keeping a hold
// on every server it creates so that the test can emit on it.
import type { Server } from 'node:http';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startMetricsServer } from '../../pkg/metrics/server.js';
import { servePlugin, type IpamBackend } from '../../pkg/dockeripam/server.js';

const made = vi.hoisted(() => ({ servers: [] as unknown[] }));
vi.mock('node:http', async (importOriginal) => {
  const http = await importOriginal<typeof import('node:http')>();
  const createServer = (...args: unknown[]) => {
    const s = (http.createServer as (...a: unknown[]) => Server)(...args);
    made.servers.push(s);
    return s;
  };
  return { ...http, default: { ...http, createServer }, createServer };
});

const lastServer = () => made.servers[made.servers.length - 1] as Server;

/** GET or POST over TCP (url) or a unix socket; the status and body. */
function call(opts: { url?: string; socketPath?: string; path: string; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = opts.url ? new URL(opts.path, opts.url) : undefined;
    const req = request({
      ...(target ? { host: target.hostname, port: target.port } : { socketPath: opts.socketPath }),
      path: opts.path, method: opts.body === undefined ? 'GET' : 'POST', agent: false,
    }, (res) => {
      let body = '';
      res.on('data', (d) => { body += String(d); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => { for (const c of closers.splice(0)) await c(); });

describe('a server error after listening', () => {
  it('the metrics endpoint logs it and keeps answering', async () => {
    const seen: string[] = [];
    const s = await startMetricsServer('127.0.0.1:0', () => undefined, (e) => seen.push(e.message));
    closers.push(() => s.close());
    const server = lastServer();
    expect(() => server.emit('error', new Error('accept EMFILE'))).not.toThrow();
    expect(() => server.emit('error', new Error('accept EMFILE again'))).not.toThrow();
    expect(seen).toEqual(['accept EMFILE', 'accept EMFILE again']);
    expect(await call({ url: s.url, path: '/healthz' })).toEqual({ status: 200, body: 'ok\n' });
  });

  it('the IPAM plugin socket logs it and keeps answering', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnet-plugin-err-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const backend: IpamBackend = {
      requestPool: async () => ({ PoolID: 'mv', Pool: '10.9.0.0/24' }),
      releasePool: async () => undefined,
      requestAddress: async () => '10.9.0.10/24',
      releaseAddress: async () => undefined,
    };
    const seen: string[] = [];
    const p = await servePlugin(join(dir, 'xnet.sock'), backend, undefined, (e) => seen.push(e.message));
    closers.push(() => p.close());
    const server = lastServer();
    // the first would have gone to the listen's left-over once('error') listener, the second nowhere
    expect(() => server.emit('error', new Error('accept EMFILE'))).not.toThrow();
    expect(() => server.emit('error', new Error('accept EMFILE again'))).not.toThrow();
    expect(seen).toEqual(['accept EMFILE', 'accept EMFILE again']);
    const r = await call({ socketPath: p.socket, path: '/IpamDriver.RequestAddress', body: '{"PoolID":"mv"}' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ Address: '10.9.0.10/24' });
  });
});
