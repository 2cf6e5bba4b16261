// Judging one fault from what the probers and the checks saw, and printing the table.
import type { Settled } from './checks.js';
import type { Gap } from './prober.js';
import { parseFlow, type Flow, type Injected } from './faults/types.js';

/** The targets: converged within 15 s of the fault's end. */
export const CONVERGE_TARGET_MS = 15_000;

/**
 * Not converged, or not at the first poll: the run then lists what each poll waited for (a
 * miss of the target says why, and a pass shows how close it came).
 */
export const pollsWorthListing = (s: Settled) => s.convergeMs === undefined || s.polls.length > 1;

export interface PairLoss { lost: number; longestGapMs: number }

export interface FaultResult {
  id: number | string;
  title: string;
  durationMs: number;
  /** "host-1~host-2" -> what every flow between the two lost, both directions and paths */
  pairs: Map<string, PairLoss>;
  /** flows the fault hit directly: lost packets and the longest gap */
  affectedLoss: PairLoss;
  dups: string[];
  settled: Settled;
  violations: string[];
  notes: string[];
}

const pairOf = (f: Flow) => [f.from, f.to].sort().join('~');

export function lossByPair(gaps: Gap[], flows: string[]): Map<string, PairLoss> {
  const out = new Map<string, PairLoss>();
  for (const f of flows) out.set(pairOf(parseFlow(f)), { lost: 0, longestGapMs: 0 });
  for (const g of gaps) {
    const p = out.get(pairOf(parseFlow(g.flow)))!;
    p.lost += g.lost;
    p.longestGapMs = Math.max(p.longestGapMs, g.gapMs);
  }
  return out;
}

/** What the design says must not happen, as one line each. */
export function violations(gaps: Gap[], inj: Injected, settled: Settled, dups: string[]): string[] {
  const v: string[] = [...(inj.violations ?? [])];
  const affected = (g: Gap) => inj.affected?.(parseFlow(g.flow)) ?? false;
  for (const g of gaps.filter((x) => !affected(x) && x.lost > 0)) v.push(`${g.flow} lost ${g.lost} packets (${g.gapMs} ms silent, ${g.kind})`);
  if (inj.resumeWithinMs !== undefined) {
    for (const g of gaps.filter((x) => affected(x) && x.at > inj.end + inj.resumeWithinMs!)) {
      v.push(`${g.flow} resumed ${((g.at - inj.end) / 1000).toFixed(1)} s after the fault ended (target ${inj.resumeWithinMs / 1000} s)`);
    }
  }
  for (const f of settled.silent) v.push(`${f} stopped and did not resume`);
  if (settled.convergeMs === undefined) v.push(`not converged: ${settled.waitedOn}`);
  else if (settled.convergeMs > CONVERGE_TARGET_MS) v.push(`converged after ${(settled.convergeMs / 1000).toFixed(1)} s (target ${CONVERGE_TARGET_MS / 1000} s)`);
  for (const d of settled.diffs) v.push(`verify: ${d.host}: ${d.what}: expected ${d.expected}, found ${d.found}`);
  if (settled.ipamProblems) v.push(`ipam check: ${settled.ipamProblems} problem(s): ${settled.ipamText.trim().split('\n').slice(0, 5).join(' | ')}`);
  for (const d of dups) v.push(`duplicate address ${d}`);
  return v;
}

const fmtLoss = (p: PairLoss) => (p.lost ? `${p.lost} (${(p.longestGapMs / 1000).toFixed(1)} s)` : '0');

export function tableMarkdown(results: FaultResult[]): string {
  const pairs = [...(results[0]?.pairs.keys() ?? [])];
  const head = ['#', 'fault', ...pairs.map((p) => `lost ${p.replace(/host-/g, 'h')}`), 'lost on hit flows', 'stopped wrongly', 'dup addrs', 'ipam problems', 'verify diffs', 'converged', 'verdict'];
  const rows = results.map((r) => [
    String(r.id), r.title,
    ...pairs.map((p) => fmtLoss(r.pairs.get(p) ?? { lost: 0, longestGapMs: 0 })),
    r.affectedLoss.lost ? fmtLoss(r.affectedLoss) : '-',
    String(r.violations.filter((x) => /lost \d+ packets|stopped/.test(x)).length),
    String(r.dups.length), String(r.settled.ipamProblems), String(r.settled.diffs.length),
    r.settled.convergeMs === undefined ? 'no' : `${(r.settled.convergeMs / 1000).toFixed(1)} s`,
    r.violations.length ? 'FAIL' : 'ok',
  ]);
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function details(results: FaultResult[]): string {
  return results.map((r) => {
    const lines = [`fault ${r.id} (${r.title}), ${(r.durationMs / 1000).toFixed(0)} s:`];
    for (const n of r.notes) lines.push(`  note: ${n}`);
    if (r.settled.waitedOn) lines.push(`  last thing waited for: ${r.settled.waitedOn}`);
    for (const v of r.violations) lines.push(`  VIOLATION: ${v}`);
    if (!r.violations.length) lines.push('  nothing lost that must not be');
    return lines.join('\n');
  }).join('\n');
}
