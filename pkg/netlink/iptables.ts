// iptables inside the target namespace, in whole-table batches: one `iptables-save -t T` to
// read, one `iptables-restore --noflush` to write, so rules change atomically and the
// number of spawned processes does not grow with the number of rules.
import { run } from './exec.js';
import { inNetns, type NetTarget } from './target.js';
import { DataplaneError } from '../errors.js';

export interface ChainDump {
  /** user chains and built-in chains declared in the dump */
  chains: string[];
  /** rules of each chain, in order, as the `-A CHAIN` line without the "-A CHAIN " (a bare rule: '') */
  rules: Record<string, string[]>;
}

/** Parses the part of `iptables-save` output that belongs to one table. */
export function parseSave(text: string, table: string): ChainDump {
  const out: ChainDump = { chains: [], rules: {} };
  let inTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) { inTable = line === `*${table}`; continue; }
    if (!inTable || !line || line.startsWith('#')) continue;
    if (line === 'COMMIT') { inTable = false; continue; }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0];
      out.chains.push(name);
      out.rules[name] ??= [];
      continue;
    }
    // a bare rule (`iptables -I FORWARD`: an admin's packet counter) is "-A FORWARD" alone; it
    // counts for the positions the jumps are inserted at (planner/nat.ts)
    const m = /^-A (\S+)(?: (.*))?$/.exec(line);
    if (m) (out.rules[m[1]] ??= []).push(m[2] ?? '');
  }
  return out;
}

/** A restore line that would split into several (a newline or NUL smuggled in through a name). */
export class IptablesInputError extends DataplaneError {
  constructor(readonly line: string) {
    super('UnsafeArgument', `refusing iptables-restore line ${JSON.stringify(line)}: it contains a newline or NUL, which would add rules`);
  }
}

/** The stdin of `iptables-restore --noflush` for one table. */
export function restoreInput(table: string, lines: string[]): string {
  for (const l of [table, ...lines]) if (/[\r\n\x00]/.test(l)) throw new IptablesInputError(l);
  return [`*${table}`, ...lines, 'COMMIT', ''].join('\n');
}

export class Iptables {
  constructor(readonly target: NetTarget) {}

  async save(table: string): Promise<ChainDump> {
    const [cmd, args] = inNetns(this.target, 'iptables-save', ['-t', table]);
    return parseSave(await run(cmd, args), table);
  }

  /** Applies `lines` (without *table / COMMIT) to `table` atomically, keeping other rules. */
  async restore(table: string, lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const input = restoreInput(table, lines);
    const [cmd, args] = inNetns(this.target, 'iptables-restore', ['--noflush']);
    await run(cmd, args, input);
  }
}

/** One net.* sysctl as the target namespace sees it (sysctl runs inside it: /proc/sys/net is per namespace). */
export async function readSysctl(target: NetTarget, key: string): Promise<string> {
  const [cmd, args] = inNetns(target, 'sysctl', ['-n', key]);
  return (await run(cmd, args)).trim();
}

/** Writes several keys with one process. */
export async function writeSysctls(target: NetTarget, values: Record<string, string>): Promise<void> {
  const [cmd, args] = inNetns(target, 'sysctl', ['-q', '-w', ...Object.entries(values).map(([k, v]) => `${k}=${v}`)]);
  await run(cmd, args);
}
