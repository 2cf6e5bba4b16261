// Docker's remote IPAM plugin protocol (libnetwork ipamapi, plugin API v1) over a unix socket
// in Docker's plugin directory: POST with a JSON body, a JSON answer, errors as {"Error": ...}
// (libnetwork's IPAM API; network and volume plugins say "Err", so both are sent).
//
// Docker's plugin client (moby pkg/plugins/client.go, callWithRetry) keeps its connections
// open for ever and, when a call fails at the transport level, sends it again built from the
// same, already consumed, body reader: the retry arrives with an EMPTY body. So this server
// never closes an idle connection itself (Node's default closes one after 5 s, and a request
// Docker writes onto it at that moment is reset and then replayed empty, which is how
// RequestAddress once arrived without its PoolID), and an empty body where a PoolID is
// required is refused with a message that says what happened instead of guessing a pool.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { XnetIpamError } from './errors.js';

export interface PoolRequest { AddressSpace?: string; Pool?: string; SubPool?: string; Options?: Record<string, string> | null; V6?: boolean }
export interface AddressRequest { PoolID?: string; Address?: string; Options?: Record<string, string> | null }

/** What the plugin asks of xnet; a thrown error's message goes back to Docker (and its user). */
export interface IpamBackend {
  requestPool(r: PoolRequest): Promise<{ PoolID: string; Pool: string }>;
  releasePool(poolId: string): Promise<void>;
  requestAddress(r: AddressRequest): Promise<string>;
  releaseAddress(poolId: string, address: string): Promise<void>;
  /** Plugin.Activate: a dockerd (re)starts using the plugin */
  activate?(): Promise<void>;
}

export const LOCAL_SPACE = 'xnet-local';
export const GLOBAL_SPACE = 'xnet-global';

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) { text += chunk; if (text.length > 1 << 20) throw new Error('request too large'); }
  if (!text.trim()) return {};
  const v = JSON.parse(text) as unknown;
  return v && typeof v === 'object' ? v as Record<string, unknown> : {};
}

const NEEDS_POOL = new Set(['/IpamDriver.RequestAddress', '/IpamDriver.ReleaseAddress', '/IpamDriver.ReleasePool']);

export const EMPTY_RETRY_MESSAGE = 'Docker sent this IPAM request with an empty body, which its plugin client does when it retries a call whose connection failed; '
  + 'the original request was not answered, try again';

async function answer(path: string, b: Record<string, unknown>, be: IpamBackend): Promise<unknown> {
  if (NEEDS_POOL.has(path) && !b.PoolID) throw new XnetIpamError('BadRequest', `${path.slice(1)}: ${EMPTY_RETRY_MESSAGE}`);
  switch (path) {
    case '/Plugin.Activate': await be.activate?.(); return { Implements: ['IpamDriver'] };
    // RequiresMACAddress: libnetwork then gives each endpoint a random MAC (the macvlan driver
    // otherwise derives it from the address). A killed dockerd's containers leave their macvlan
    // links in namespaces the kernel destroys later; the restarted container, on the same
    // address, failed with 'error setting interface MAC ...: address already in use'.
    case '/IpamDriver.GetCapabilities': return { RequiresMACAddress: true, RequiresRequestReplay: false };
    case '/IpamDriver.GetDefaultAddressSpaces': return { LocalDefaultAddressSpace: LOCAL_SPACE, GlobalDefaultAddressSpace: GLOBAL_SPACE };
    case '/IpamDriver.RequestPool': { const r = await be.requestPool(b as PoolRequest); return { ...r, Data: {} }; }
    case '/IpamDriver.ReleasePool': await be.releasePool(String(b.PoolID ?? '')); return {};
    case '/IpamDriver.RequestAddress': return { Address: await be.requestAddress(b as AddressRequest), Data: {} };
    case '/IpamDriver.ReleaseAddress': await be.releaseAddress(String(b.PoolID ?? ''), String(b.Address ?? '')); return {};
    default: return undefined;
  }
}

export interface PluginServer { socket: string; close(): Promise<void> }

/**
 * onError: a request refused; onServerError: an error of the listening server itself (EMFILE
 * on accept, say), logged and survived (by default on stderr): with no listener it is thrown.
 */
export async function servePlugin(
  socket: string, be: IpamBackend, onError?: (path: string, err: Error) => void,
  onServerError: (err: Error) => void = (err) => { process.stderr.write(`IPAM plugin ${socket}: ${err.message}\n`); },
): Promise<PluginServer> {
  mkdirSync(dirname(socket), { recursive: true });
  rmSync(socket, { force: true });
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (code: number, v: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/vnd.docker.plugins.v1.2+json' });
      res.end(JSON.stringify(v));
    };
    const path = (req.url ?? '').split('?')[0];
    body(req)
      .then((b) => { if (process.env.XNET_IPAM_TRACE) console.error('IPAM>', path, JSON.stringify(b)); return answer(path, b, be); })
      .then((v) => { if (process.env.XNET_IPAM_TRACE) console.error('IPAM<', path, JSON.stringify(v)); return v; })
      .then((v) => (v === undefined ? send(404, { Err: `unknown endpoint ${path}` }) : send(200, v)))
      .catch((e: Error) => { onError?.(path, e); send(200, { Error: e.message, Err: e.message }); });
  });
  // Never time an idle connection out: Docker reuses it whenever it likes (see the top).
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => { server.off('error', reject); resolve(); });
  });
  server.on('error', onServerError);
  return {
    socket,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
      rmSync(socket, { force: true });
    }),
  };
}
