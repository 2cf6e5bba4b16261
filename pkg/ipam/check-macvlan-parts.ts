// What the audit reads of a MacvlanNet's status besides its status key: the parts kept in its
// nodes' indexes and its pool counts (store/macvlan-parts.ts), joined into one status as every
// reader sees it, so the audit finds each node's pre-claims announced where they always were.
import { macvlanPoolStatus, type Status } from '../api/index.js';
import { decodeKeyOf, decodeMacvlanPart, UndecodableError } from '../store/decode.js';
import type { Keys } from '../store/keys.js';
import { joinMacvlanStatus } from '../store/macvlan-parts.js';

export class MacvlanPartsRead {
  /** MacvlanNet -> node -> its part */
  private readonly parts = new Map<string, Map<string, Status>>();
  private readonly pools = new Map<string, Status>();

  /** `undecodable`: told of a key that does not decode, and why. */
  constructor(private readonly keys: Keys, private readonly undecodable: (key: string, detail: string) => void) {}

  /** Whether `key` is a MacvlanNet's part or pool counts (then filed, or named as undecodable). */
  file(key: string, value: string): boolean {
    const part = this.keys.parseMacvlanPart(key);
    const pool = part ? undefined : this.keys.parseMacvlanPool(key);
    if (!part && pool === undefined) return false;
    try {
      if (part) {
        const st = decodeMacvlanPart(part.node, key, value);
        (this.parts.get(part.name) ?? this.parts.set(part.name, new Map()).get(part.name)!).set(part.node, st);
      } else this.pools.set(pool!, decodeKeyOf(macvlanPoolStatus, key, value));
    } catch (e) {
      if (!(e instanceof UndecodableError)) throw e;
      this.undecodable(key, e.detail);
    }
    return true;
  }

  /** The MacvlanNets' statuses among `statuses` (by "MacvlanNet/<name>"), each joined with its parts and counts. */
  join(statuses: Map<string, Status>): void {
    for (const [id, st] of statuses) {
      if (!id.startsWith('MacvlanNet/')) continue;
      const name = id.slice('MacvlanNet/'.length);
      statuses.set(id, joinMacvlanStatus(st, this.pools.get(name), (node) => this.parts.get(name)?.get(node))!);
    }
  }
}
