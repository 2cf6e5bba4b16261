// etcd endpoints as users give them (--endpoints, XCTL_ENDPOINTS): checked before any I/O, so
// that a slip is a usage error naming the bad value, not an "etcd unreachable" minutes of
// retries later, or an error from gRPC's target parser.
import { EtcdConfigError } from './client.js';

const EXAMPLE = 'http://127.0.0.1:2379';
const SCHEMES = ['http', 'https'];
/** scheme://authority, then whatever follows (path, query, fragment) */
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/;
/** host, then :port when a colon follows it; an IPv6 address in brackets */
const AUTHORITY = /^(\[[0-9A-Fa-f:.]*\]|[^:[\]]*)(?::(.*))?$/;
/** underscores too: container and compose names (etcd_1) resolve on Docker's networks */
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** HOST:PORT without a scheme, as etcdctl takes it: https when TLS files are given, else http */
const BARE_HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^:/[\]@?#]+):\d+$/;
const IPV6_IN_BRACKETS = /^\[[0-9A-Fa-f:.]+\]$/;

/**
 * Comma-separated endpoints, each `http://HOST[:PORT]` or `https://HOST[:PORT]` (a trailing
 * `/` is dropped) or a bare `HOST:PORT`, all of one scheme. A bare one is read as etcdctl reads
 * it: `https://` when `tls` (TLS files were given: tlsFilesGiven, client.ts), `http://` otherwise; a scheme
 * written is kept. `from` names where the value came from in messages.
 * Throws EtcdConfigError (a usage error) naming the value that is wrong.
 */
export function parseEndpoints(value: string, from = '--endpoints', tls = false): string[] {
  if (value.trim() === '') throw new EtcdConfigError(`${from} is empty; give etcd's URLs, e.g. ${EXAMPLE}`);
  const given = value.split(',').map((e) => e.trim());
  const endpoints = given.map((e) => {
    if (!e) throw new EtcdConfigError(`invalid ${from} "${value}": an empty endpoint (a comma with nothing before or after it); separate URLs with single commas`);
    return checkedEndpoint(e, from, tls ? 'https' : 'http');
  });
  // etcd3 speaks TLS to every endpoint or to none: a mixed list fails at the first call
  const schemes = new Set(endpoints.map((e) => e.slice(0, e.indexOf(':'))));
  if (schemes.size > 1) {
    // the user may have written no https: say which endpoint was read so
    const readAsHttps = tls ? given.filter((e) => BARE_HOST_PORT.test(e)) : [];
    const why = readAsHttps.length ? ` (${readAsHttps.join(', ')} ${readAsHttps.length > 1 ? 'are' : 'is'} read as https://, TLS files being given)` : '';
    throw new EtcdConfigError(`invalid ${from} "${value}": mixes http and https endpoints${why}; give one scheme for all`);
  }
  return endpoints;
}

/** One endpoint, checked, with its scheme in lower case (etcd3 matches `https:` exactly); `bare` is a bare HOST:PORT's. */
function checkedEndpoint(e: string, from: string, bare: 'http' | 'https'): string {
  const bad = (why: string) => new EtcdConfigError(`invalid endpoint "${e}" in ${from}: ${why}`);
  const url = URL_PARTS.exec(BARE_HOST_PORT.test(e) ? `${bare}://${e}` : e);
  if (!url) throw bad(`not a URL; write ${e.includes('://') ? EXAMPLE : `${bare}://${e}`} (or ${bare === 'http' ? 'https' : 'http'}://)`);
  const scheme = url[1].toLowerCase();
  if (!SCHEMES.includes(scheme)) throw bad(`scheme "${url[1]}" is not one etcd serves; use http or https`);
  if (url[3] !== '' && url[3] !== '/') throw bad(`"${url[3]}" is not part of an etcd endpoint; give ${scheme}://HOST[:PORT] without a path or query`);
  if (url[2].includes('@')) throw bad('no user name or password in an endpoint: xctl signs in to etcd with --cert and --key');
  const auth = AUTHORITY.exec(url[2]);
  const [host, port] = auth ? [auth[1], auth[2]] : ['', undefined];
  if (!auth || host === '') throw bad(`no host; e.g. ${EXAMPLE}`);
  if (!HOST_NAME.test(host) && !IPV6_IN_BRACKETS.test(host)) throw bad(`"${host}" is not a host name or address`);
  if (port !== undefined && !validPort(port)) throw bad(`port "${port}" is not a number from 1 to 65535`);
  return `${scheme}://${host}${port === undefined ? '' : `:${port}`}`;
}

function validPort(port: string): boolean {
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
}
