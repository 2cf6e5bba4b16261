// What the agent keeps in its state directory (default /var/lib/xnet/<node>) about what it
// changed on the host: the parents it set up or promiscuous (parent-record.ts), the Docker
// networks it made (network-record.ts) and the peer routes it had in place (routes-record.ts).
// Its IPAM journal lives there too (dockeripam).
import { ParentRecord } from './parent-record.js';
import { NetworkRecord } from './network-record.js';
import { RoutesRecord } from './routes-record.js';
export { readOnly } from './network-record.js';

export interface StateRecords { parents?: ParentRecord; networks?: NetworkRecord; routesRecord?: RoutesRecord }

/**
 * The records of `node`; none with a stand-in dataplane (the scale benchmark) unless it names a
 * state directory, so that a thousand hollow agents write nothing under /var/lib.
 */
export function stateRecords(node: string, opts: { stateDir?: string; standIn: boolean }, warn: (msg: string) => void, info?: (msg: string) => void): StateRecords {
  if (opts.standIn && !opts.stateDir) return {};
  return {
    parents: ParentRecord.inStateDir(node, opts.stateDir, warn, info), networks: NetworkRecord.inStateDir(node, opts.stateDir, warn, info),
    routesRecord: RoutesRecord.inStateDir(node, opts.stateDir, warn),
  };
}
