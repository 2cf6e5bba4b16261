// A read-only picture of the machine's root network namespace, to prove that the lab and the
// agents never touch it (BRIEF: no links, addresses, routes, rules, iptables or sysctls there).
// Everything here only reads: `ip ... show`, `iptables-save`, /proc/sys files. The test
// process runs in the root namespace, so no nsenter is involved.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const read = (cmd: string, args: string[]) => {
  try { return execFileSync(cmd, args, { encoding: 'utf8', timeout: 30_000 }); } catch (e) { return `${cmd} failed: ${(e as Error).message}`; }
};

/** `ip -json ...` with the fields that move by themselves (lifetimes, counters) left out. */
function ipJson(args: string[]): string[] {
  const out = read('ip', ['-json', ...args]);
  let items: Record<string, unknown>[];
  try { items = JSON.parse(out || '[]'); } catch { return [out]; }
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).filter(([k]) => !/life_time|^stats|^operstate$|^linkmode$/.test(k)).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return items.map((i) => JSON.stringify(strip(i))).sort();
}

/** Files directly in `dir` under /proc/sys, as key=value (unreadable ones skipped). */
function sysctls(dir: string): string[] {
  const root = join('/proc/sys', dir);
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((f) => {
    const p = join(root, f);
    try {
      if (!statSync(p).isFile() || (statSync(p).mode & 0o444) === 0) return [];
      return [`${dir}/${f}=${readFileSync(p, 'utf8').trim().replace(/\s+/g, ' ')}`];
    } catch { return []; }
  });
}

/** Keys whose values the kernel changes on its own (secrets, counters, per-boot seeds). */
const VOLATILE = /tcp_fastopen_key|fib_multipath_hash_seed|nf_conntrack_count|base_reachable_time|hash_seed/;

export interface RootNetState { [part: string]: string[] }

export function rootNetState(): RootNetState {
  const families = ['-4', '-6'];
  const state: RootNetState = {
    links: ipJson(['link', 'show']),
    addresses: families.flatMap((f) => ipJson([f, 'addr', 'show'])),
    routes: families.flatMap((f) => ipJson([f, 'route', 'show', 'table', 'all'])),
    rules: families.flatMap((f) => ipJson([f, 'rule', 'show'])),
    iptables: ['iptables-save', 'ip6tables-save'].flatMap((c) => read(c, []).split('\n')
      .filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, ''))),
    sysctls: ['net/ipv4', 'net/ipv4/conf/all', 'net/ipv4/conf/default', 'net/ipv6/conf/all', 'net/ipv6/conf/default', 'net/bridge', 'net/core']
      .flatMap(sysctls).filter((l) => !VOLATILE.test(l.split('=')[0])),
  };
  return state;
}

/** What changed between two pictures, one line per difference (empty when none). */
export function rootNetChanges(before: RootNetState, after: RootNetState): string[] {
  const out: string[] = [];
  for (const part of Object.keys(before)) {
    const a = new Set(before[part]);
    const b = new Set(after[part] ?? []);
    for (const x of a) if (!b.has(x)) out.push(`${part}: gone   ${x}`);
    for (const x of b) if (!a.has(x)) out.push(`${part}: new    ${x}`);
  }
  return out;
}
