// Fault 3's timeline of leadership: for each SIGKILL of the leading controller, when etcd
// deleted its election key (its lease expired), when a standby took the key, and for the last
// kill what the new leader logged (its work queue filled, its first address allocated). Read
// from a watch on the election key and from the controllers' own logs, so a slow failover says
// where its time went.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Watcher } from 'etcd3';
import { Keys, DEFAULT_PREFIX } from '../../../pkg/store/keys.js';
import type { ChaosLab } from '../lab.js';

interface KeyEvent { at: number; type: 'put' | 'delete'; holder?: string }

export interface ElectionWatch { events: KeyEvent[]; close(): Promise<void> }

export async function watchElection(c: ChaosLab): Promise<ElectionWatch> {
  const events: KeyEvent[] = [];
  const w: Watcher = await c.admin.watch().key(new Keys(DEFAULT_PREFIX).election()).create();
  w.on('put', (kv) => events.push({ at: Date.now(), type: 'put', holder: kv.value.toString() }));
  w.on('delete', () => events.push({ at: Date.now(), type: 'delete' }));
  return { events, close: () => w.cancel().catch(() => undefined) };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One line per kill: the key's deletion and the next leader's put, both after the kill. */
export function killLines(events: KeyEvent[], killedAt: number[]): string[] {
  return killedAt.map((k, i) => {
    const next = killedAt[i + 1] ?? Infinity;
    const del = events.find((e) => e.type === 'delete' && e.at >= k && e.at < next);
    const put = events.find((e) => e.type === 'put' && e.at >= k && e.at < next);
    return `kill ${i + 1}: election key deleted ${del ? `${secs(del.at - k)} after the kill` : 'not seen'}, `
      + `new leader ${put ? `${secs(put.at - k)} after the kill` : 'not seen'}`;
  });
}

/**
 * The controllers' log lines about leadership written after `since`, with their time after `origin`
 * (a restarted controller's "started; campaigning" says when it could stand by: its startupMs).
 */
export function leadershipLogLines(c: ChaosLab, since: number, origin = since): string[] {
  const out: { at: number; line: string }[] = [];
  for (let n = 1; n <= c.controllers; n++) {
    const file = join(c.lab.dir, `controller-${n}.log`);
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!/became leader|leading:|stopped leading|started; campaigning/.test(line)) continue;
      const at = Date.parse(line.slice(0, line.indexOf(' ')));
      if (at >= since) out.push({ at, line: `controller/${n} ${at >= origin ? '+' : ''}${secs(at - origin)}: ${line.slice(line.indexOf(' ') + 1)}` });
    }
  }
  return out.sort((a, b) => a.at - b.at).map((x) => x.line);
}
