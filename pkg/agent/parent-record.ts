// What xnet changed on host interfaces it did not make: a MacvlanNet's parent put in
// promiscuous mode or brought up. The kernel keeps no owner for either, so the agent records
// them here (one small JSON file in its state directory) before it makes the change, and undoes
// only what the record says once no MacvlanNet needs the parent (reconcilers/parents.ts).
// A record holds for one boot (the kernel's boot id) and one link (its ifindex): after a reboot,
// or for a link made again since, it says nothing. A file that is not a record is logged, kept
// as `<file>.bad` and read as empty: the agent then leaves the host as it is, never throws. A
// file that exists but cannot be read (EIO, EACCES, EMFILE, EISDIR) may read fine later: it is
// logged once and not written over while it cannot be read (what this run changes is kept in
// memory), and read again by a later pass, with backoff (state-file.ts); once it reads, that is
// logged and what this run changed meanwhile is made again on what it holds, and written.
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../durable-file.js';
import { readStateText, RETRY_SAID, StateFileReads } from './state-file.js';
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

/**
 * The entries with these flags taken away (`undone`: undone, or no longer true), for the same
 * link (ifindex); an entry left with no flag goes.
 */
export function withoutFlags(links: ParentEntries, undone: ParentEntries): ParentEntries {
  const out: ParentEntries = { ...links };
  for (const [name, u] of Object.entries(undone)) {
    const e = out[name];
    if (e?.ifindex !== u.ifindex) continue;
    const left: ParentEntry = { ifindex: e.ifindex };
    if (e.promisc && !u.promisc) left.promisc = true;
    if (e.up && !u.up) left.up = true;
    if (left.promisc || left.up) out[name] = left; else delete out[name];
  }
  return out;
}

export function readBootId(): string | undefined {
  try { return readFileSync(BOOT_ID_PATH, 'utf8').trim() || undefined; } catch { return undefined; }
}

/** The record file of one agent; read once, then kept in memory (this agent is its only writer). */
export class ParentRecord {
  private links?: ParentEntries;
  private chain: Promise<unknown> = Promise.resolve();
  /** the file's reads: again by a later pass while it cannot be read, which it is not written over */
  private readonly file: StateFileReads<ParentEntries>;
  /** what this run changed while the file could not be read, made again on what it holds once it reads */
  private pending: ((links: ParentEntries) => ParentEntries)[] = [];

  /**
   * `info`: where a file read again after a failure is said (default `warn`); `clock`: ms, for
   * the backoff of those reads.
   */
  constructor(readonly path: string, private readonly warn: (msg: string) => void, private readonly bootId: () => string | undefined = readBootId,
    private readonly opts: { info?: (msg: string) => void; clock?: () => number } = {}) {
    this.file = new StateFileReads(() => this.read(), opts.clock);
  }

  /** The record under the agent's state directory (default /var/lib/xnet/<node>). */
  static inStateDir(node: string, stateDir: string | undefined, warn: (msg: string) => void, info?: (msg: string) => void): ParentRecord {
    return new ParentRecord(join(stateDir ?? `/var/lib/xnet/${node}`, PARENT_RECORD_FILE), warn, readBootId, { info });
  }

  /** What the record holds for this boot (links not yet checked against the host: currentEntries). */
  entries(): ParentEntries {
    if (this.links === undefined) this.links = this.file.first((e) => this.cannotRead(e)) ?? {};
    else this.readsAgain(this.file.again());
    return this.links;
  }

  /** Adds changes xnet is about to make; false when they could not be recorded (they will not be undone). */
  note(changes: ParentChange[]): boolean {
    if (changes.length === 0) return true;
    const r = withChanges(this.entries(), changes);
    if (r.dropped.length) this.warn(`${this.path}: more than ${MAX_RECORDED_LINKS} interfaces recorded; not recording ${r.dropped.join(', ')} (xnet's change there will not be undone)`);
    return this.change((links) => withChanges(links, changes).links, r.links) && r.dropped.length === 0;
  }

  /** Drops the entries of these links (undone, or no longer true). */
  forget(names: string[]): void {
    const links = this.entries();
    const undone = Object.fromEntries(names.filter((n) => n in links).map((n) => [n, links[n]]));
    this.change((l) => withoutFlags(l, undone), withoutFlags(links, undone));
  }

  /** Drops the promiscuous-mode flag of these links (turned off again; they stay in use), and an entry left with no flag. */
  forgetPromisc(names: string[]): void {
    const links = this.entries();
    const undone = Object.fromEntries(names.filter((n) => links[n]?.promisc).map((n) => [n, { ifindex: links[n].ifindex, promisc: true }]));
    this.change((l) => withoutFlags(l, undone), withoutFlags(links, undone));
  }

  /** Runs f after every f given before has finished: one release pass at a time. */
  serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.chain.then(f, f);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * The record made `next` by `f` (one of note, forget, forgetPromisc); false when that is not
   * in the file. While the file cannot be read, f is kept to be made again on what it holds.
   */
  private change(f: (links: ParentEntries) => ParentEntries, next: ParentEntries): boolean {
    if (JSON.stringify(next) === JSON.stringify(this.links)) return true;
    if (this.file.unreadable) this.pending.push(f);
    return this.save(next);
  }

  private cannotRead(e: Error): void {
    this.warn(`${this.path}: cannot read the parent record (${e.message}); it is left as it is and not written until it reads (${RETRY_SAID}): `
      + 'until then xnet undoes only the changes it makes in this run');
  }

  /** The file read again after it could not be (`read`): what this run changed meanwhile is made again on what it holds, and written. */
  private readsAgain(read: ParentEntries | undefined): void {
    if (!read) return;
    const changes = this.pending.length;
    const links = this.pending.reduce((l, f) => f(l), read);
    this.pending = [];
    (this.opts.info ?? this.warn)(`${this.path}: the parent record reads again (${Object.keys(read).length} interface(s) recorded for this boot, `
      + `${changes} change(s) of this run made on them); xnet undoes what it holds again once no MacvlanNet needs those parents`);
    this.links = links;
    if (changes > 0) this.save(links);
  }

  /** The file's entries for this boot (empty when absent, of another boot or not a record: bad), or the error that kept it from being read. */
  private read(): ParentEntries | Error {
    const boot = this.bootId();
    if (!boot) return {};
    const file = readStateText(this.path, MAX_RECORD_BYTES);
    if (file === 'absent') return {};
    if (file === 'tooLarge') return this.bad(`larger than ${MAX_RECORD_BYTES} bytes`);
    if (file instanceof Error) return file;
    const r = parseRecord(file.text, boot);
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
   * memory (undone in this run) and false says it is not recorded for a later one (until the
   * file reads again: readsAgain).
   */
  private save(links: ParentEntries): boolean {
    if (this.file.unreadable) {
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
