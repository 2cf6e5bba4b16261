// Which peer routes this node's agent had in place, for this boot: the evidence the start-up pass
// asks for before a peer route it puts back is told as a heal (restart-evidence.ts). The kernel
// keeps no trace of a route deleted while no agent ran, and a route missing at start may as well
// be one declared since (a peer that joined, a peer whose address changed). One small JSON file
// in the agent's state directory: destination -> next hop, as the last routes pass left the
// kernel (the routes it found, with its own changes made on them), written when that changes. A
// record holds for one boot (the kernel's boot id): after a reboot the kernel has no route of
// xnet's, and putting them back is setting the host up. Counting heals is all it is for: a file
// that is absent, of another boot, not a record, or that cannot be read or written is logged
// and read as empty (the start-up pass then tells no route as healed), never kept aside.
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileDurably } from '../durable-file.js';
import { readStateText } from './state-file.js';
import { readBootId } from './parent-record.js';

export const ROUTES_RECORD_FILE = 'routes.json';
/** a larger file is not read (treated as empty): a route is ~40 bytes, a node has one per peer subnet */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;

const recordFile = z.object({ version: z.literal(1), bootId: z.string().min(1), routes: z.record(z.string(), z.string()) });

/** destination -> next hop */
export type RouteEntries = Record<string, string>;

export class RoutesRecord {
  /** what the file held for this boot when the agent started (read once, before any write) */
  private atStart?: RouteEntries;
  private lastText?: string;
  private saidWrite = false;

  constructor(readonly path: string, private readonly warn: (msg: string) => void, private readonly bootId: () => string | undefined = readBootId) {}

  /** The record under the agent's state directory (default /var/lib/xnet/<node>). */
  static inStateDir(node: string, stateDir: string | undefined, warn: (msg: string) => void): RoutesRecord {
    return new RoutesRecord(join(stateDir ?? `/var/lib/xnet/${node}`, ROUTES_RECORD_FILE), warn);
  }

  /** The routes the previous run recorded as in place in this boot (empty when none). */
  previousRun(): RouteEntries {
    if (this.atStart) return this.atStart;
    this.atStart = this.read();
    this.lastText = JSON.stringify(this.atStart);
    return this.atStart;
  }

  /** Records the peer routes in place now; written only when they changed. */
  update(routes: RouteEntries): void {
    this.previousRun();
    const text = JSON.stringify(routes);
    if (text === this.lastText) return;
    const boot = this.bootId();
    if (!boot) return;
    try {
      writeFileDurably(this.path, JSON.stringify({ version: 1, bootId: boot, routes }), 0o644);
      this.lastText = text;
    } catch (e) {
      if (!this.saidWrite) this.warn(`${this.path}: cannot write the routes record (${(e as Error).message}); a route deleted while the agent is down will be put back uncounted`);
      this.saidWrite = true;
    }
  }

  private read(): RouteEntries {
    const boot = this.bootId();
    if (!boot) return {};
    const file = readStateText(this.path, MAX_RECORD_BYTES);
    if (file === 'absent') return {};
    const unusable = (why: string) => {
      this.warn(`${this.path}: ${why}; routes put back at start-up are not told as healed`);
      return {};
    };
    if (file === 'tooLarge') return unusable(`larger than ${MAX_RECORD_BYTES} bytes`);
    if (file instanceof Error) return unusable(`cannot read the routes record (${file.message})`);
    let json: unknown;
    try { json = JSON.parse(file.text); } catch (e) { return unusable(`not JSON (${(e as Error).message})`); }
    const r = recordFile.safeParse(json);
    if (!r.success) return unusable('not a routes record');
    return r.data.bootId === boot ? r.data.routes : {};
  }
}
