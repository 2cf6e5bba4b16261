// The few Docker Engine API calls the lab makes itself (is the daemon up, which containers run,
// import the busybox image), over the host's unix socket from this process: each `docker` CLI
// process they replace cost a fork of the caller and 50-80 ms of CPU (docs/contributing.md).
// Every call has a deadline; the tests' own `docker` commands still go through the CLI.
import { request } from 'node:http';
import type { Readable } from 'node:stream';

export interface DockerApiResult {
  status: number;
  body: string;
}

export interface DockerApiOptions {
  timeoutMs?: number;
  /** the request's body, streamed (e.g. a tar file) */
  body?: Readable;
  contentType?: string;
}

/** Reply bodies beyond this are cut (the lab only reads short answers and progress lines). */
const MAX_BODY = 1024 * 1024;

/** One request to the daemon at `socket`; rejects on a connection error or when the deadline passes. */
export function dockerApi(socket: string, method: string, path: string, o: DockerApiOptions = {}): Promise<DockerApiResult> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: 'docker' };
    if (o.contentType) headers['content-type'] = o.contentType;
    const req = request({ socketPath: socket, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < MAX_BODY) body += c; });
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, body }); });
      res.on('error', fail);
    });
    const timer = setTimeout(() => req.destroy(new Error(`Docker API ${method} ${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(e: Error) { clearTimeout(timer); reject(e); }
    req.on('error', fail);
    if (o.body) {
      o.body.on('error', (e) => req.destroy(e));
      o.body.pipe(req);
    } else {
      req.end();
    }
  });
}

/** True when the daemon answers GET /_ping with OK within the deadline. */
export async function dockerPing(socket: string, timeoutMs = 5000): Promise<boolean> {
  try {
    const r = await dockerApi(socket, 'GET', '/_ping', { timeoutMs });
    return r.status === 200 && r.body.trim() === 'OK';
  } catch {
    return false;
  }
}

/** IDs of the daemon's running containers. */
export async function runningContainerIds(socket: string, timeoutMs = 10_000): Promise<string[]> {
  const r = await dockerApi(socket, 'GET', '/containers/json', { timeoutMs });
  if (r.status !== 200) throw new Error(`Docker API GET /containers/json: ${r.status} ${r.body.trim()}`);
  const list: unknown = JSON.parse(r.body);
  if (!Array.isArray(list)) return [];
  return list.map((c) => (c as { Id?: unknown }).Id).filter((id): id is string => typeof id === 'string' && /^[0-9a-f]{12,64}$/.test(id));
}
