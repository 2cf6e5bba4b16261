// A stopped container's address is kept for it (pkg/dockeripam/kept-owner.ts): a container run
// while it is stopped gets another address, and the stopped one, started again, gets its own
// back. Unit tests cover the books; this is the user's sequence on a real dockerd with the real
// controller and agent: docker run A, docker stop A, docker run B, docker start A; then the
// same with the agent (which serves the plugin) started again while A is stopped, with A
// stopped while the agent is down (Docker's release never reached the plugin), and with the
// host's dockerd stopped and started again (restoring a restart-always container, not a
// finished on-failure job) meanwhile, the new container run through its API at once.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_IMAGE, clearDeadContainerd, startDockerd, stopDockerd, type LabHost } from '../../pkg/lab/index.js';
import { docker, eventually, inContainer, runContainer, useMacvlanIpamLab } from './agent-harness.js';
import { ipOf } from './docker-api.js';

const NET = 'keep';
// a wide range: B is refused A's address by the plugin's choice, not by a pool with no other
const env = useMacvlanIpamLab(1, NET, { subnet: '192.168.217.0/24', gateway: '192.168.217.1', ipRange: '192.168.217.128/25' });

/** The agent's journal entry for ip (its stateDir is the lab host's directory). */
type Entry = { name?: string; released?: number; restarts?: boolean };
function journalEntries(h: LabHost): Record<string, Entry> {
  const j = JSON.parse(readFileSync(join(h.dir, 'ipam-journal.json'), 'utf8')) as { nets: Record<string, { assigned: Record<string, Entry> }> };
  return j.nets[NET]?.assigned ?? {};
}
function journalEntry(h: LabHost, ip: string): Entry | undefined {
  return journalEntries(h)[ip];
}

/** The address the journal holds (or keeps) for the container named `name`. */
function journalOf(h: LabHost, name: string): string | undefined {
  return Object.entries(journalEntries(h)).find(([, e]) => e.name === name)?.[0];
}

/** One ping from container `from` to `ip`, its output on failure. */
async function pings(h: LabHost, from: string, ip: string): Promise<void> {
  const r = await inContainer(h, from, ['ping', '-c', '1', '-W', '2', ip]);
  expect(r.stdout, `ping ${ip} from ${from}`).toContain('1 packets received');
}

/**
 * `stopAndBreak` stops ka (and whatever else); then `fresh` is run: it gets none of the
 * addresses ka and the `others` hold, ka started again gets its own, and the two ping each other.
 */
async function keptThrough(h: LabHost, fresh: string, others: string[], stopAndBreak: (a: string) => Promise<void>): Promise<void> {
  const a = await ipOf(h, 'ka');
  // a stopped one's: the address the journal keeps for it
  const held = await Promise.all(others.map(async (n) => (await ipOf(h, n)) || journalOf(h, n)));
  await stopAndBreak(a);
  // at once after the break: no pause that would let a slower path hide a race
  await runContainer(h, fresh, ['--net', NET]);
  const f = await ipOf(h, fresh);
  expect(f).toMatch(/^192\.168\.217\./);
  expect([a, ...held], `${fresh} got ${f}, an address kept for ka (${a}) or held or kept by ${others.join(', ')} (${held.join(', ')})`).not.toContain(f);
  await docker(h, ['start', 'ka']);
  expect(await ipOf(h, 'ka'), 'ka started again on its own address').toBe(a);
  await pings(h, 'ka', f);
  await pings(h, fresh, a);
}

describe('a stopped container keeps its address through docker run of another', () => {
  const h = () => env.lab.hosts[0];

  it('B run while A is stopped gets another address; A started again gets its own; they ping each other', async () => {
    await runContainer(h(), 'ka', ['--net', NET]);
    expect(await ipOf(h(), 'ka')).toMatch(/^192\.168\.217\./);
    await keptThrough(h(), 'kb', [], () => docker(h(), ['stop', '-t', '0', 'ka']).then(() => undefined));
  }, 180_000);

  it('the agent started again while A is stopped: C run then gets another address, A its own', async () => {
    await keptThrough(h(), 'kc', ['kb'], async (a) => {
      await docker(h(), ['stop', '-t', '0', 'ka']);
      // the plugin recorded the release (Docker's ReleaseAddress) before the agent goes
      await eventually(async () => journalEntry(h(), a)?.released !== undefined || undefined, `${a} kept for ka in the journal`, 30_000);
      await env.lab.stopAgent(h());
      await env.lab.startAgent(h());
    });
  }, 240_000);

  // Docker's ReleaseAddress fails (no plugin; docker stop waits out its retries, ~15 s): the
  // journal still says ka holds its address, and the agent started again learns it stopped.
  it('A stopped while the agent is down: D run after the agent is back gets another address, A its own', async () => {
    await keptThrough(h(), 'kd', ['kb', 'kc'], async () => {
      await env.lab.stopAgent(h());
      await docker(h(), ['stop', '-t', '0', 'ka']);
      // its Docker event stream opened again only every 20 s after a break (by default 1 s,
      // doubling to 5 s): the next case's dockerd restart opens the window a restored dockerd
      // opens, Docker's API answering again and the agent not hearing it yet (up to 20 s)
      await env.lab.startAgent(h(), { dockerEventsRetryMs: 20_000 });
    });
  }, 240_000);

  // A dockerd stopped releases what its running containers hold and, started again, asks for
  // addresses for its restart-always ones before its API answers (the plugin's restore guess).
  // Restored, it serves its API, and E is run through it at once: the agent hears that the API
  // answers only when its event stream connects again (up to 20 s after it answers here, 5 s
  // in production), and E's request is no restore's. It got the address kept for kf, a finished
  // on-failure job (exited 0): its restart policy says it restarts, the dockerd did not start it.
  it('dockerd stopped and started again while A is stopped: a restart-always one comes back on its own, E run at once through its API gets another (not a finished job\'s), A its own', async () => {
    await runContainer(h(), 'kr', ['--net', NET, '--restart', 'always']);
    const r = await ipOf(h(), 'kr');
    await docker(h(), ['run', '-d', '--name', 'kf', '--net', NET, '--restart', 'on-failure', BUSYBOX_IMAGE, 'true']);
    // the restore's guess goes by the restart policy the agent learnt from Docker
    await eventually(async () => journalEntry(h(), r)?.restarts === true || undefined, 'the agent learnt kr restarts', 30_000);
    await eventually(async () => { const e = journalEntry(h(), journalOf(h(), 'kf') ?? ''); return (e?.released !== undefined && e.restarts === true) || undefined; },
      'kf exited, its address kept and its restart policy learnt', 30_000);
    await keptThrough(h(), 'ke', ['kb', 'kc', 'kd', 'kr', 'kf'], async () => {
      await docker(h(), ['stop', '-t', '0', 'ka']);
      await stopDockerd(h());
      await clearDeadContainerd(h());
      await startDockerd(h(), { timeoutMs: 240_000 });
      await eventually(async () => (await ipOf(h(), 'kr').catch(() => '')) === r || undefined, 'kr back on its own address', 120_000);
    });
  }, 480_000);
});
