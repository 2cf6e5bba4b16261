// The daemons' HTTP endpoint: /metrics (Prometheus text), /healthz (the process serves), and
// /readyz (the component has done its start-up work: an agent its first full pass, a
// controller its cache sync; 503 with the reason until then).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import { registry } from './metrics.js';

export interface Readiness {
  /** undefined when ready, else why not (the body of the 503) */
  (): string | undefined;
}

export interface MetricsServer {
  /** http://host:port of the bound socket (port 0 resolved) */
  readonly url: string;
  close(): Promise<void>;
}

export class MetricsAddrError extends UsageError {
  constructor(message: string) { super(message, 'InvalidMetricsAddr'); }
}

/** host:port, [v6]:port or :port (all interfaces are not the default: 127.0.0.1). */
export function parseMetricsAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new MetricsAddrError(`--metrics-addr ${addr}: expected host:port (e.g. 127.0.0.1:9476)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** Where an error of the listening server goes (by default stderr); it never ends the process. */
export type ServerErrorLog = (err: Error) => void;

const toStderr: ServerErrorLog = (err) => { process.stderr.write(`metrics endpoint: ${err.message}\n`); };

export async function startMetricsServer(addr: string, ready: Readiness, onError: ServerErrorLog = toStderr): Promise<MetricsServer> {
  const { host, port } = parseMetricsAddr(addr);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.statusCode = 405; res.end(); return; }
    if (path === '/healthz') { res.end('ok\n'); return; }
    if (path === '/readyz') {
      const why = ready();
      res.statusCode = why === undefined ? 200 : 503;
      res.end(why === undefined ? 'ok\n' : `not ready: ${why}\n`);
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then((text) => {
        res.setHeader('content-type', registry.contentType);
        res.end(text);
      }, (e: Error) => { res.statusCode = 500; res.end(`${e.message}\n`); });
      return;
    }
    res.statusCode = 404;
    res.end('not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  // For good: an 'error' event with no listener is thrown, and the daemon would exit (EMFILE on accept).
  server.on('error', onError);
  server.unref();
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
