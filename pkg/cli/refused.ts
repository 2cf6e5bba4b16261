// What xctl says when etcd refuses the identity it connects as (a node's certificate given as
// --cert, or xnet-admin's role made by an older version): a whole command refused
// (program.ts) and a write of several transactions refused midway (commands/progress.ts).
import { fromEtcdError } from '../etcd/errors.js';
import { EtcdPermissionError } from '../errors.js';

/** Whether etcd refused the request for the identity's permissions. */
export function isRefused(e: unknown): boolean {
  return fromEtcdError(e) instanceof EtcdPermissionError;
}

/** "etcd refused the request: permission denied", without gRPC's "7 PERMISSION_DENIED: etcdserver: ". */
export function refusedCause(message: string): string {
  return `etcd refused the request: ${message.replace(/^\d+ [A-Z_]+: /, '').replace(/^etcdserver: /, '')}`;
}

/** Which identity xctl needs, and the other way to be refused (deploy/README.md: auth init after every upgrade). */
export const REFUSED_HINT = 'xctl reads every xnet key and writes objects as etcd\'s xnet-admin user: give its certificate with --cert and --key, ' +
  'or none against the running lab, which uses it; if it is given already and xnet was upgraded, run `xctl auth init` again ' +
  'to bring the roles up to date; docs/security.md';
