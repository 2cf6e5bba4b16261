// The agent's local journal of its own address book (one JSON file per agent), written whole
// and renamed into place before Docker hears an answer: a crash leaves the old or the new
// book, never half of one. Read once at start, so the plugin answers before etcd is reachable.
import { readFileSync, renameSync } from 'node:fs';
import { writeFileDurably } from '../durable-file.js';
import { z } from 'zod';
import { IpamError } from '../errors.js';
import { ifName } from '../api/fields.js';

/**
 * What Docker says of the container (learnt by the agent while Docker answers): `restarts`,
 * a daemon restart starts it again by itself (its restart policy); `pinned`, it asks for its
 * address by --ip at every start. A dockerd restoring its containers asks for addresses
 * without saying for whom: these facts narrow the guess (./book.ts).
 */
const containerFacts = { restarts: z.boolean().optional(), pinned: z.boolean().optional() };

const netBook = z.object({
  /** the MacvlanNet's subnet and gateway, so Docker is answered while etcd is unreachable */
  subnet: z.string().optional(),
  gateway: z.string().optional(),
  /** the interface its macvlans hang off, so an ARP probe can look before etcd is read (at start) */
  parent: ifName.optional().catch(undefined),
  /** addresses the controller pre-claimed for this node */
  pool: z.array(z.string()),
  /**
   * ip -> the container it went to (once Docker showed us) and when; `released`: Docker let go
   * of it (the container stopped) and it is kept for that container; `lentFrom`: it was kept
   * for that container and went to a starting one (most likely the same, restarting).
   * Facts (containerFacts) are the container's: they go with it when its address is lent.
   */
  assigned: z.record(z.string(), z.object({
    container: z.string().optional(), name: z.string().optional(), at: z.number(),
    released: z.number().optional(),
    ...containerFacts,
    lentFrom: z.object({ container: z.string(), name: z.string().optional(), ...containerFacts }).optional(),
  })),
  returned: z.array(z.string()),
  external: z.array(z.string()),
  requested: z.array(z.string()),
  want: z.number(),
  /** addresses an ARP probe found unused */
  probed: z.array(z.string()).default([]),
});
const journalState = z.object({ version: z.literal(1), nets: z.record(z.string(), netBook) });

export type NetBook = z.infer<typeof netBook>;
export type JournalState = z.infer<typeof journalState>;

export interface Journal {
  load(): JournalState;
  save(s: JournalState): void;
}

/**
 * The journal exists but cannot be read (EISDIR, EACCES, EIO...). Unlike one that is absent
 * (a new node) or unparsable (set aside as `.bad`: it will never read better), it may read
 * fine once someone fixes it or the disk recovers, and it is the only record of the addresses
 * kept for stopped containers: the plugin does not start on it, and never writes over it.
 */
export class JournalUnreadableError extends IpamError {
  constructor(readonly path: string, cause: unknown) {
    super('JournalUnreadable', `cannot read the IPAM journal ${path} (${(cause as Error).message}): the plugin does not start without it, `
      + 'as it might hand out addresses it keeps for stopped containers; make it readable, or move it away to start with an empty journal '
      + '(what running containers hold is then adopted from Docker)', { cause });
  }
}

export class FileJournal implements Journal {
  constructor(readonly path: string, private readonly onBad?: (msg: string) => void) {}

  /** Only a journal that does not exist is an empty one; one that cannot be read throws JournalUnreadableError. */
  load(): JournalState {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nets: {} };
      throw new JournalUnreadableError(this.path, e);
    }
    let raw: unknown;
    try { raw = JSON.parse(text); } catch (e) { raw = e; }
    const r = journalState.safeParse(raw);
    if (!r.success) {
      // Keep the unreadable file for a human; start empty (the controller's claims still stand).
      const why = raw instanceof Error ? `not JSON: ${raw.message}` : r.error.issues[0]?.message;
      this.onBad?.(`${this.path}: not a valid journal (${why}); starting empty`);
      renameSync(this.path, `${this.path}.bad`);
      return { version: 1, nets: {} };
    }
    return r.data;
  }

  /**
   * Written whole to a temporary file, synced, renamed into place and the directory synced:
   * after a power loss the journal is the old book or the new one, never an empty file (a
   * rename alone is atomic against a crash of the process, not of the machine). write(2) may
   * take only part of the buffer: it is called again for the rest until every byte is written.
   */
  save(s: JournalState): void {
    writeFileDurably(this.path, JSON.stringify(s));
  }
}

export class MemoryJournal implements Journal {
  state: JournalState = { version: 1, nets: {} };
  load(): JournalState { return structuredClone(this.state); }
  save(s: JournalState): void { this.state = structuredClone(s); }
}

/** obj without its undefined fields (the journal's entries carry no undefined). */
export function defined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
