// Fault 8: the controllers' wall clocks jump 10 minutes forward (libfaketime, only their
// processes; monotonic time is untouched, as when NTP steps a clock). Leadership must not move,
// no Node may be declared dead, nothing may be reallocated.
import { writeFileSync } from 'node:fs';
import { controllerLeader } from '../control-plane.js';
import { nodesReady, sleep, waitFor } from '../workload.js';
import type { Fault } from './types.js';

const JUMP_S = 600;
const WATCH_MS = 30_000;

export const clockJump: Fault = {
  id: 8,
  title: 'the controllers\' clocks jumped 10 minutes forward',
  exercises: 'timers and leases on monotonic time and etcd lease TTLs rather than wall-clock comparisons: the controller\'s '
    + 'leader lease, node liveness (heartbeat age), the address cooldown of released addresses, event ages',
  async inject({ c, say }) {
    // a leader first: after a fault that took etcd away (2) the controllers may still be
    // re-electing, and a leader elected during the watch is not leadership that moved
    const before = await waitFor('a controller leader', () => controllerLeader(c), 60_000, 100);
    writeFileSync(c.faketimeFile, `+${JUMP_S}\n`);
    say(`controllers' clocks +${JUMP_S / 60} min (leader: controller/${before}); watching for ${WATCH_MS / 1000} s`);
    const seen: string[] = [];
    const t = Date.now();
    while (Date.now() - t < WATCH_MS) {
      const why = await nodesReady(c);
      if (why && !seen.includes(why)) seen.push(why);
      await sleep(1000);
    }
    const after = await controllerLeader(c);
    const violations = seen.map((s) => `while the clock was ahead: ${s}`);
    if (after !== before) violations.push(`leadership moved from controller/${before} to controller/${after}`);
    return { end: Date.now(), settled: () => nodesReady(c), violations, notes: ['the jump stays: later faults run with the controllers 10 min ahead'] };
  },
};
