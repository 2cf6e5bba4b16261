// Which Docker networks this node's agent made for its HostSubnets and MacvlanNets: the
// evidence owner.ts (madeHere) asks for before a network labelled for such an object that this
// node no longer serves under it is removed as xnet's leftover. A label is anyone's to write,
// and an object deleted while the agent was down leaves nothing in etcd to tell xnet's network
// of it from a user's network so labelled; Docker's network id does (Docker gives each network a
// new random one). One small JSON file in the agent's state directory: network id -> the owner
// label it carries. An id goes in when Docker has made the network, and when a pass finds an
// object's network of this node in place (the network of an agent before the record, or one
// whose write failed); it goes out when the network is off the host. Docker keeps its networks
// across reboots, so unlike the parent record this one holds across boots. A file that is not a
// record is logged, kept as `<file>.bad` and read as empty: the agent then removes no leftover
// it cannot prove its own. A file that exists but cannot be read (EIO, EACCES, EMFILE, EISDIR)
// may read fine later and is the only evidence: it is logged once, never written over while it
// cannot be read (what this run makes is kept in memory), and read again by a later pass, with
// backoff (state-file.ts); once it reads, that is logged and what it holds joins what this run
// made. A file that cannot be written is logged once; the record holds in memory for the
// agent's run.
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../durable-file.js';
import { readStateText, StateFileReads, RETRY_FIRST_MS, RETRY_MAX_MS, RETRY_SAID } from './state-file.js';
import { z } from 'zod';
import type { MadeNetworks } from './planner/owner.js';

export const NETWORK_RECORD_FILE = 'networks.json';
/** a larger file is not read (treated as empty): a node has a network per HostSubnet and MacvlanNet */
const MAX_RECORD_BYTES = 256 * 1024;
/** no more networks than this are recorded (one beyond it, once left over, stays) */
export const MAX_RECORDED_NETWORKS = 1024;
export { RETRY_FIRST_MS, RETRY_MAX_MS };

const recordFile = z.object({ version: z.literal(1), networks: z.record(z.string().min(1), z.string().min(1)) });

/** Where `node`'s agent keeps its record: its --state-dir, default /var/lib/xnet/<node>. */
const recordPath = (node: string, stateDir: string | undefined) => join(stateDir ?? `/var/lib/xnet/${node}`, NETWORK_RECORD_FILE);

/** What a pass asks of the record (AgentContext.networks). */
export type NetworkEvidence = Pick<NetworkRecord, 'made' | 'update' | 'firstMention' | 'now'>;

/**
 * The record as a dry run (the agent's verify, `xctl lab verify`) reads it: what it holds, never
 * changed by that run, whose view of Docker may be older than the agent's last create (it would
 * forget that network), and naming no orphan (the agent's passes do).
 */
export function readOnly(r: Pick<NetworkRecord, 'made'>): NetworkEvidence {
  return { made: () => r.made(), update: () => undefined, firstMention: () => false, now: () => 0 };
}

/**
 * The record of `node`'s agent as a dry run in another process reads it (`xctl verify --local`,
 * `lab verify`): read-only, and a file that is not a record is left where it is. Moved aside
 * by the verify, with its warning unheard, the agent would find no file and never say that
 * its evidence was lost.
 */
export function agentRecord(node: string, stateDir: string | undefined): NetworkEvidence {
  return readOnly(new NetworkRecord(recordPath(node, stateDir), () => undefined, { reader: true }));
}

/** The record file of one agent; read once, then kept in memory (this agent is its only writer). */
export class NetworkRecord {
  private networks?: Map<string, string>;
  /** orphans already named in the log (once per network per agent run) */
  private readonly told = new Set<string>();
  /** the file does not hold what is in memory: its last write failed (said once until one succeeds) */
  private unsaved = false;
  /** the file's reads: again by a later pass while it cannot be read, which it is not written over */
  private readonly file: StateFileReads<Map<string, string>>;
  /** how many adds this run has made (now), and that count at each recorded id's last add */
  private added = 0;
  private readonly addedAt = new Map<string, number>();

  /**
   * `reader`: another process's view of the agent's file (agentRecord), which it never changes;
   * `info`: where a file read again after a failure is said (default `warn`); `clock`: ms, for
   * the backoff of those reads.
   */
  constructor(readonly path: string, private readonly warn: (msg: string) => void,
    private readonly opts: { reader?: boolean; info?: (msg: string) => void; clock?: () => number } = {}) {
    this.file = new StateFileReads(() => this.read(), opts.clock);
  }

  /** The record under the agent's state directory (default /var/lib/xnet/<node>). */
  static inStateDir(node: string, stateDir: string | undefined, warn: (msg: string) => void, info?: (msg: string) => void): NetworkRecord {
    return new NetworkRecord(recordPath(node, stateDir), warn, { info });
  }

  /** network id -> the owner label it carried when recorded */
  made(): MadeNetworks {
    if (this.networks === undefined) this.networks = this.file.first((e) => this.cannotRead(e)) ?? new Map();
    else this.readsAgain(this.file.again());
    return this.networks;
  }

  /**
   * The point the record is at: a list of Docker's networks read after it holds every network
   * recorded up to it (update's `readAt`).
   */
  now(): number {
    return this.added;
  }

  /**
   * Adds these networks (id -> label) as made here, and, given `onHost` (the ids of the networks
   * Docker has, as read after `readAt`: now()), forgets those recorded that are gone. One added
   * since is kept: another pass (the HostSubnets', a MacvlanNet's) may have had Docker make it
   * after that list was read. Written only when that changes.
   */
  update(add: ReadonlyMap<string, string>, onHost?: ReadonlySet<string>, readAt = Infinity): void {
    const next = new Map([...this.made()].filter(([id]) => !onHost || onHost.has(id) || (this.addedAt.get(id) ?? 0) > readAt));
    for (const [id, label] of add) {
      if (next.size >= MAX_RECORDED_NETWORKS && !next.has(id)) {
        // said once per network and run: every pass offers it again
        if (this.firstMention(`unrecorded ${id}`)) this.warn(`${this.path}: more than ${MAX_RECORDED_NETWORKS} networks recorded; not recording ${id} (${label}): it stays once its object is gone`);
        continue;
      }
      next.set(id, label);
      this.addedAt.set(id, ++this.added);
    }
    for (const id of this.addedAt.keys()) if (!next.has(id)) this.addedAt.delete(id);
    if (this.unsaved || JSON.stringify([...next]) !== JSON.stringify([...this.made()])) this.save(next);
  }

  /** True the first time it is asked about `id` in this agent's run: an orphan is named once, not every pass. */
  firstMention(id: string): boolean {
    if (this.told.has(id)) return false;
    this.told.add(id);
    return true;
  }

  private cannotRead(e: Error): void {
    this.warn(`${this.path}: cannot read the network record (${e.message}); it is left as it is and not written until it reads `
      + `(${RETRY_SAID}), `
      + 'and until then no network of a gone HostSubnet or MacvlanNet is removed but those this run makes');
  }

  /** The file read again after it could not be (`read`): what it holds joins what this run made (which is written back to it). */
  private readsAgain(read: Map<string, string> | undefined): void {
    if (!read) return;
    const mine = this.networks ?? new Map<string, string>();
    (this.opts.info ?? this.warn)(`${this.path}: the network record reads again (${read.size} network(s) recorded, ${mine.size} made or found in this run kept with them); `
      + 'the networks it holds are removed again as leftovers once their objects are gone');
    if ([...mine].every(([id, label]) => read.get(id) === label)) this.networks = read;
    else this.save(new Map([...read, ...mine]));
  }

  /** The file's networks (empty when absent or not a record: bad), or the error that kept it from being read. */
  private read(): Map<string, string> | Error {
    const file = readStateText(this.path, MAX_RECORD_BYTES);
    if (file === 'absent') return new Map();
    if (file === 'tooLarge') return this.bad(`larger than ${MAX_RECORD_BYTES} bytes`);
    if (file instanceof Error) return file;
    let json: unknown;
    try { json = JSON.parse(file.text); } catch (e) { return this.bad(`not JSON (${(e as Error).message})`); }
    const r = recordFile.safeParse(json);
    return r.success ? new Map(Object.entries(r.data.networks)) : this.bad(`not a network record (${r.error.issues[0]?.message})`);
  }

  /** Keeps the unusable file for a human (<path>.bad) and starts empty. */
  private bad(why: string): Map<string, string> {
    this.warn(`${this.path}: ${why}; treating the network record as empty (no network of a gone HostSubnet or MacvlanNet is removed until it is recorded again)`);
    if (this.opts.reader) return new Map();
    try { renameSync(this.path, `${this.path}.bad`); } catch { /* it stays; the next save replaces it */ }
    return new Map();
  }

  /**
   * Whole file, synced, renamed into place (durable-file.ts): a crash or a power loss leaves the
   * old or the new one. Kept in memory whether or not the file takes it: what this agent made is
   * its own for as long as it runs (an object deleted meanwhile has its network removed); a write
   * that failed is tried again at the next update. A file that could not be read is not written
   * until it reads again (readsAgain).
   */
  private save(networks: Map<string, string>): void {
    this.networks = networks;
    if (this.file.unreadable || this.opts.reader) return;
    try {
      writeFileDurably(this.path, JSON.stringify({ version: 1, networks: Object.fromEntries(networks) }), 0o644);
      this.unsaved = false;
    } catch (e) {
      if (!this.unsaved) this.warn(`${this.path}: cannot write the network record (${(e as Error).message}); until it can, a network of a HostSubnet or MacvlanNet deleted while the agent is down stays`);
      this.unsaved = true;
    }
  }
}
