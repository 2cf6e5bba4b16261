// What xctl says when etcd refuses the identity it connects as (a node's certificate given as
// --cert, or xnet-admin's role made by an older version): a whole command refused
// (program.ts) and a write of several transactions refused midway (commands/progress.ts).
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { fromEtcdError } from '../etcd/errors.js';
import { EtcdPermissionError } from '../errors.js';
import { ADMIN_USER } from '../auth/roles.js';

/** Whether etcd refused the request for the identity's permissions. */
export function isRefused(e: unknown): boolean {
  return fromEtcdError(e) instanceof EtcdPermissionError;
}

/** "etcd refused the request: permission denied", without gRPC's "7 PERMISSION_DENIED: etcdserver: ". */
export function refusedCause(message: string): string {
  return `etcd refused the request: ${message.replace(/^\d+ [A-Z_]+: /, '').replace(/^etcdserver: /, '')}`;
}

/** The client certificate xctl connected with (its flags', or the running lab's): none, none given. */
export interface ConnectedAs { cert?: string }

/**
 * The etcd user a client certificate names: its subject's CN, which etcd's --client-cert-auth
 * takes as the user. Undefined when the file cannot be read or names none (the hint then names the file).
 */
export function certificateUser(file: string): string | undefined {
  try {
    const subject = new X509Certificate(readFileSync(file)).subject;
    return subject.split('\n').map((line) => /^CN=(.+)$/.exec(line)?.[1]).find((cn) => cn !== undefined);
  } catch {
    return undefined;
  }
}

/** "xctl ran as ...": the identity etcd refused, as xctl knows it. */
function ranAs(as: ConnectedAs, user: string | undefined): string {
  if (!as.cert) return 'xctl ran with no client certificate';
  if (user === undefined) return `xctl ran with the client certificate ${as.cert}`;
  return `xctl ran as etcd's ${user} user (the CN of the client certificate ${as.cert})`;
}

/**
 * Which identity etcd refused, which one xctl needs, and the other way to be refused (deploy/README.md:
 * auth init after every upgrade). Before, it named only xnet-admin, whoever xctl ran as.
 */
export function refusedHint(as: ConnectedAs = {}): string {
  const user = as.cert ? certificateUser(as.cert) : undefined;
  const needs = `${ranAs(as, user)}; it reads every xnet key and writes objects as etcd's ${ADMIN_USER} user: `;
  const upgrade = 'run `xctl auth init` again to bring the roles up to date; docs/security.md';
  if (user === ADMIN_USER) return `${needs}that is the one it ran as, so its role may be older than this xnet (upgraded since auth init last ran): ${upgrade}`;
  const give = 'give its certificate with --cert and --key, or none against the running lab, which uses it';
  // another user's certificate, or none at all: only a certificate whose CN is unknown may be xnet-admin's
  if (user !== undefined || !as.cert) return `${needs}${give}; docs/security.md`;
  return `${needs}${give}; if it is given already and xnet was upgraded, ${upgrade}`;
}
