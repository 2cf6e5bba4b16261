// What the audit reads of a MacvlanNet's status besides its status key: the parts kept in its
// nodes' indexes and its pool counts (store/macvlan-parts.ts), joined into one status as every
// reader sees it, so the audit finds each node's pre-claims announced where they always were.
// A key an earlier MacvlanNet of the name left is not this one's (writtenSinceMacvlanCreated): the revisions
// each key was created and last written at are noted as read.
import { macvlanPoolStatus, type Status } from '../api/index.js';
import { decodeKeyOf, decodeMacvlanPart, UndecodableError } from '../store/decode.js';
import type { Keys } from '../store/keys.js';
import { joinMacvlanStatus, type StatusKey } from '../store/macvlan-parts.js';

/** A key's revisions as read, when known. */
export interface Revisions { modRevision?: string; createRevision?: string }

const revision = (r: string | undefined) => (r === undefined ? undefined : Number(r));

export class MacvlanPartsRead {
  /** MacvlanNet -> node -> its part */
  private readonly parts = new Map<string, Map<string, StatusKey>>();
  private readonly pools = new Map<string, StatusKey>();
  /** MacvlanNet -> its key's create_revision */
  private readonly created = new Map<string, number | undefined>();
  /** MacvlanNet -> the revision its status key was last written at */
  private readonly sharedWritten = new Map<string, number | undefined>();

  /** `undecodable`: told of a key that does not decode, and why. */
  constructor(private readonly keys: Keys, private readonly undecodable: (key: string, detail: string) => void) {}

  /**
   * Whether `key` is a MacvlanNet's part or pool counts (then filed, or named as undecodable). Of
   * a MacvlanNet's key or its status key, which the caller reads, the revision the join judges
   * incarnations by is noted.
   */
  file(key: string, value: string, rev: Revisions = {}): boolean {
    this.noteRevision(key, rev);
    const part = this.keys.parseMacvlanPart(key);
    const pool = part ? undefined : this.keys.parseMacvlanPool(key);
    if (!part && pool === undefined) return false;
    try {
      if (part) {
        const st = { value: decodeMacvlanPart(part.node, key, value), modRevision: revision(rev.modRevision) };
        (this.parts.get(part.name) ?? this.parts.set(part.name, new Map()).get(part.name)!).set(part.node, st);
      } else this.pools.set(pool!, { value: decodeKeyOf(macvlanPoolStatus, key, value), modRevision: revision(rev.modRevision) });
    } catch (e) {
      if (!(e instanceof UndecodableError)) throw e;
      this.undecodable(key, e.detail);
    }
    return true;
  }

  private noteRevision(key: string, rev: Revisions): void {
    const o = this.keys.parseObjectKey(key);
    if (o?.kind === 'MacvlanNet') this.created.set(o.name, revision(rev.createRevision));
    const s = o ? undefined : this.keys.parseStatusKey(key);
    if (s?.kind === 'MacvlanNet' && 'controller' in s.writer) this.sharedWritten.set(s.name, revision(rev.modRevision));
  }

  /**
   * The MacvlanNets' statuses among `statuses` (by "MacvlanNet/<name>"), each joined with its parts
   * and counts; one whose status key an earlier MacvlanNet of the name left goes (none yet).
   */
  join(statuses: Map<string, Status>): void {
    for (const [id, st] of statuses) {
      if (!id.startsWith('MacvlanNet/')) continue;
      const name = id.slice('MacvlanNet/'.length);
      const joined = joinMacvlanStatus(this.created.get(name), { value: st, modRevision: this.sharedWritten.get(name) }, this.pools.get(name), (node) => this.parts.get(name)?.get(node));
      if (joined) statuses.set(id, joined); else statuses.delete(id);
    }
  }
}
