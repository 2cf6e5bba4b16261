// What xnet changed on host interfaces it did not make: a MacvlanNet's parent put in
// promiscuous mode or brought up. The kernel keeps no owner for either, so the agent records
// them here (one small JSON file in its state directory) before it makes the change, and undoes
// only what the record says once no MacvlanNet needs the parent (reconcilers/parents.ts).
// A record holds for one boot (the kernel's boot id) and one link (its ifindex): after a reboot,
// or for a link made again since, it says nothing. A file that is not a record is logged, kept
// as `<file>.bad` and read as empty: the agent then leaves the host as it is, never throws. A
// file that exists but cannot be read (EIO, EACCES, EMFILE) may read fine later: it is logged
// once and not written over in this run (what this run changes is kept in memory only).
import { readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../durable-file.js';
import { z } from 'zod';
import type { Link } from '../netlink/types.js';
import { formatIssuePath } from '../api/field-path.js';

export const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
export const PARENT_RECORD_FILE = 'parents.json';
/** a larger file is not read (treated as empty): the record is a handful of interfaces */
export const MAX_RECORD_BYTES = 64 * 1024;
/** no more interfaces than this are recorded (a change beyond it is made, and not undone) */
export const MAX_RECORDED_LINKS = 256;

const entry = z.object({
  ifindex: z.number().int().positive(),
  /** xnet turned promiscuous mode on */
  promisc: z.boolean().optional(),
  /** xnet brought the link up */
  up: z.boolean().optional(),
});
const recordFile = z.object({ version: z.literal(1), bootId: z.string().min(1), links: z.record(z.string(), entry) });

export type ParentEntry = z.infer<typeof entry>;
/** by interface name */
export type ParentEntries = Record<string, ParentEntry>;
export interface ParentChange { name: string; ifindex: number; promisc?: boolean; up?: boolean }

/** The entries a file's text holds for this boot; `bad` says why the text is unusable. */
export function parseRecord(text: string, bootId: string): { links: ParentEntries; bad?: string } {
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { return { links: {}, bad: `not JSON (${(e as Error).message})` }; }
  const r = recordFile.safeParse(json);
  if (!r.success) return { links: {}, bad: `not a parent record (${formatIssuePath(r.error.issues[0]?.path ?? [], '(record)')}: ${r.error.issues[0]?.message})` };
  return { links: r.data.bootId === bootId ? r.data.links : {} };
}

/** The entries whose link is still there with the same ifindex (not made again since). */
export function currentEntries(links: ParentEntries, observed: Pick<Link, 'name' | 'ifindex'>[]): ParentEntries {
  const out: ParentEntries = {};
  for (const [name, e] of Object.entries(links)) {
    if (observed.some((l) => l.name === name && l.ifindex === e.ifindex)) out[name] = e;
  }
  return out;
}

/**
 * The entries with the changes added: a flag once set stays set (xnet set promisc, later brought
 * the link up: both); a link of another ifindex starts over. Links beyond the cap are not added.
 */
export function withChanges(links: ParentEntries, changes: ParentChange[]): { links: ParentEntries; dropped: string[] } {
  const out: ParentEntries = { ...links };
  const dropped: string[] = [];
  for (const c of changes) {
    const old = out[c.name]?.ifindex === c.ifindex ? out[c.name] : undefined;
    if (!out[c.name] && Object.keys(out).length >= MAX_RECORDED_LINKS) { dropped.push(c.name); continue; }
    const e: ParentEntry = { ifindex: c.ifindex };
    if (c.promisc || old?.promisc) e.promisc = true;
    if (c.up || old?.up) e.up = true;
    out[c.name] = e;
  }
  return { links: out, dropped };
}

export function readBootId(): string | undefined {
  try { return readFileSync(BOOT_ID_PATH, 'utf8').trim() || undefined; } catch { return undefined; }
}

/** The record file of one agent; read once, then kept in memory (this agent is its only writer). */
export class ParentRecord {
  private links?: ParentEntries;
  private chain: Promise<unknown> = Promise.resolve();
  /** the file exists but could not be read: it is not written over in this run (load) */
  private unreadable = false;

  constructor(readonly path: string, private readonly warn: (msg: string) => void, private readonly bootId: () => string | undefined = readBootId) {}

  /** The record under the agent's state directory (default /var/lib/xnet/<node>). */
  static inStateDir(node: string, stateDir: string | undefined, warn: (msg: string) => void): ParentRecord {
    return new ParentRecord(join(stateDir ?? `/var/lib/xnet/${node}`, PARENT_RECORD_FILE), warn);
  }

  /** What the record holds for this boot (links not yet checked against the host: currentEntries). */
  entries(): ParentEntries {
    this.links ??= this.load();
    return this.links;
  }

  /** Adds changes xnet is about to make; false when they could not be recorded (they will not be undone). */
  note(changes: ParentChange[]): boolean {
    if (changes.length === 0) return true;
    const r = withChanges(this.entries(), changes);
    if (r.dropped.length) this.warn(`${this.path}: more than ${MAX_RECORDED_LINKS} interfaces recorded; not recording ${r.dropped.join(', ')} (xnet's change there will not be undone)`);
    if (JSON.stringify(r.links) === JSON.stringify(this.links)) return r.dropped.length === 0;
    return this.save(r.links) && r.dropped.length === 0;
  }

  /** Drops the entries of these links (undone, or no longer true). */
  forget(names: string[]): void {
    const links = { ...this.entries() };
    const gone = names.filter((n) => n in links);
    if (gone.length === 0) return;
    for (const n of gone) delete links[n];
    this.save(links);
  }

  /** Drops the promiscuous-mode flag of these links (turned off again; they stay in use), and an entry left with no flag. */
  forgetPromisc(names: string[]): void {
    const links = { ...this.entries() };
    const had = names.filter((n) => links[n]?.promisc);
    if (had.length === 0) return;
    for (const n of had) {
      if (links[n].up) links[n] = { ifindex: links[n].ifindex, up: true }; else delete links[n];
    }
    this.save(links);
  }

  /** Runs f after every f given before has finished: one release pass at a time. */
  serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.chain.then(f, f);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private load(): ParentEntries {
    const boot = this.bootId();
    if (!boot) return {};
    let text: string;
    try {
      if (statSync(this.path).size > MAX_RECORD_BYTES) return this.bad(`larger than ${MAX_RECORD_BYTES} bytes`);
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      // absent (ENOTDIR: a part of its path is a file, so the record is not there either)
      if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return {};
      // it may read fine once the disk or its permissions are fixed: what it holds is kept
      this.unreadable = true;
      this.warn(`${this.path}: cannot read the parent record (${(e as Error).message}); it is left as it is and not written in this run: `
        + 'until the agent restarts and reads it, xnet undoes only the changes it makes in this run');
      return {};
    }
    const r = parseRecord(text, boot);
    return r.bad ? this.bad(r.bad) : r.links;
  }

  /** Keeps the unusable file for a human (<path>.bad) and starts empty. */
  private bad(why: string): ParentEntries {
    this.warn(`${this.path}: ${why}; treating the parent record as empty (xnet undoes nothing it recorded there)`);
    try { renameSync(this.path, `${this.path}.bad`); } catch { /* it stays; the next save replaces it */ }
    return {};
  }

  /**
   * Whole file, synced, renamed into place (durable-file.ts): a crash or a power loss leaves the
   * old or the new one. A file that could not be read is not written: the change is kept in
   * memory (undone in this run) and false says it is not recorded for a later one.
   */
  private save(links: ParentEntries): boolean {
    if (this.unreadable) {
      this.links = links;
      return false;
    }
    const boot = this.bootId();
    if (!boot) {
      this.warn(`cannot read ${BOOT_ID_PATH}: xnet's changes to parent interfaces are not recorded and will not be undone`);
      return false;
    }
    try {
      writeFileDurably(this.path, JSON.stringify({ version: 1, bootId: boot, links }), 0o644);
      this.links = links;
      return true;
    } catch (e) {
      this.warn(`${this.path}: cannot write the parent record (${(e as Error).message}); xnet's change there will not be undone`);
      return false;
    }
  }
}
