// The IPAM claims the controller's model reads, by pool, space and address and by owner, and
// the claim keys it holds unreadable: those whose value does not decode (KvCache.isRefused) and
// the HostSubnet block claims that do not sit where the controller keeps them under their
// ClusterNetwork's hostPrefix (keys.ts pinnedBlockMisfit). Either is taken, by no one known: no
// plan picks it, names it its owner's or deletes it; `xctl ipam check` names it.
import { judgedByHostPrefix, pinnedBlockMisfit, type BlockNetwork, type Claim, type ClaimSpace, type IpamKeys } from '../ipam/keys.js';
import type { CacheChange } from '../runtime/kv-cache.js';
import type { RawKv } from '../runtime/kv.js';

export interface ClaimEntry { key: string; claim: Claim; kv: RawKv; ip: number; space: ClaimSpace }

type ClaimKey = NonNullable<ReturnType<IpamKeys['parse']>>;

const NONE: ReadonlySet<number> = new Set();

function parse<T>(kv: RawKv): T {
  if (kv.parsed === undefined) kv.parsed = JSON.parse(kv.value);
  return kv.parsed as T;
}

export class ClaimIndex {
  /** poolId ("clusternetworks/default") -> space -> address -> claim */
  private readonly claims = new Map<string, Map<ClaimSpace, Map<number, ClaimEntry>>>();
  private readonly byUid = new Map<string, Set<string>>();
  /** poolId -> space -> addresses whose claim key is in etcd but held unreadable */
  private readonly unreadable = new Map<string, Map<ClaimSpace, Set<number>>>();
  /** ClusterNetwork -> its block claims held as misfits, by key: filed again when its hostPrefix is known anew */
  private readonly misfits = new Map<string, Map<string, RawKv>>();

  /** `networkOf`: the ClusterNetwork's hostPrefix and create_revision as the model has them now, undefined while it has none */
  constructor(private readonly ipam: IpamKeys, private readonly networkOf: (cn: string) => BlockNetwork | undefined) {}

  /** Files a change of the claim key `ck` names. */
  file(c: CacheChange, ck: ClaimKey): void {
    const poolId = `${ck.type}/${ck.pool}`;
    if (c.prev) this.unfile(poolId, ck, c.key, c.prev);
    this.misfits.get(ck.pool)?.delete(c.key);
    const misfit = !!c.kv && this.misfit(ck, c.kv);
    if (misfit) this.keepMisfit(ck.pool, c.key, c.kv!);
    this.fileUnreadable(poolId, ck.space, ck.ip, !!c.refused || misfit);
    if (c.kv && !misfit) this.fileClaim(poolId, ck, c.key, c.kv);
  }

  /** The ClusterNetwork `cn` came, went or changed: its block claims are judged again by its hostPrefix. */
  refile(cn: string): void {
    const space = this.claims.get(`clusternetworks/${cn}`)?.get('blocks');
    const kvs = [...space?.values() ?? []].map((e) => e.kv).concat([...this.misfits.get(cn)?.values() ?? []]);
    for (const kv of kvs) {
      const ck = this.ipam.parse(kv.key);
      if (ck) this.file({ key: kv.key, kv, prev: kv, local: true }, ck);
    }
  }

  in(poolId: string, space: ClaimSpace): Map<number, ClaimEntry> {
    return this.claims.get(poolId)?.get(space) ?? new Map();
  }

  unreadableIn(poolId: string, space: ClaimSpace): ReadonlySet<number> {
    return this.unreadable.get(poolId)?.get(space) ?? NONE;
  }

  /** The keys of `uid`'s claims; the model reads each from the cache. */
  keysOf(uid: string): Iterable<string> { return this.byUid.get(uid) ?? []; }

  *all(): Iterable<ClaimEntry> {
    for (const spaces of this.claims.values()) for (const m of spaces.values()) yield* m.values();
  }

  private misfit(ck: ClaimKey, kv: RawKv): boolean {
    if (ck.type !== 'clusternetworks' || ck.space !== 'blocks') return false;
    const cn = this.networkOf(ck.pool);
    if (!cn || !judgedByHostPrefix(kv.createRevision, cn.createRevision)) return false;
    const claim = parse<Claim>(kv);
    return !!claim.cidr && !!pinnedBlockMisfit(claim.role, claim.cidr, ck.ip, cn.hostPrefix);
  }

  private keepMisfit(cn: string, key: string, kv: RawKv): void {
    let m = this.misfits.get(cn);
    if (!m) this.misfits.set(cn, (m = new Map()));
    m.set(key, kv);
  }

  private unfile(poolId: string, ck: ClaimKey, key: string, prev: RawKv): void {
    const m = this.claims.get(poolId)?.get(ck.space);
    if (m?.get(ck.ip)?.key !== key) return;
    m.delete(ck.ip);
    this.byUid.get(parse<Claim>(prev).owner.uid)?.delete(key);
  }

  private fileClaim(poolId: string, ck: ClaimKey, key: string, kv: RawKv): void {
    const claim = parse<Claim>(kv);
    let spaces = this.claims.get(poolId);
    if (!spaces) this.claims.set(poolId, (spaces = new Map()));
    let m = spaces.get(ck.space);
    if (!m) spaces.set(ck.space, (m = new Map()));
    m.set(ck.ip, { key, claim, kv, ip: ck.ip, space: ck.space });
    let s = this.byUid.get(claim.owner.uid);
    if (!s) this.byUid.set(claim.owner.uid, (s = new Set()));
    s.add(key);
  }

  private fileUnreadable(poolId: string, space: ClaimSpace, ip: number, held: boolean): void {
    let spaces = this.unreadable.get(poolId);
    if (!held) {
      const set = spaces?.get(space);
      if (!set?.delete(ip)) return;
      if (!set.size) spaces!.delete(space);
      if (!spaces!.size) this.unreadable.delete(poolId);
      return;
    }
    if (!spaces) this.unreadable.set(poolId, (spaces = new Map()));
    let set = spaces.get(space);
    if (!set) spaces.set(space, (set = new Set()));
    set.add(ip);
  }
}
