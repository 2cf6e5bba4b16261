// dockerIPAM xnet: a stopped container's kept address (its home) became another node's while it
// was down, and the container started again on another address. An agent no longer sees other
// nodes' pre-claims (the controller keeps each node's part in that node's index), so it took the
// container off the network to move it home; its plugin asked the controller for the home only
// then, the controller refused it (a container on the other node uses it) and the container was
// connected again on any address (up to twice). Now the agent asks first, the container staying
// where it is, and on the refusal the container keeps its address and the home is freed; a home
// idle in the other node's pre-claims is given back (status.nodes[].giveBack) and moved to once
// granted.
// Real dockerds, the real controller and agents (docs/agent.md, docs/design.md "bringHome").
import { describe, expect, it } from 'vitest';
import type { MacvlanNet, Node } from '../../pkg/api/index.js';
import { decodeReport } from '../../pkg/dockeripam/report.js';
import { createLogger } from '../../pkg/log.js';
import type { LabHost } from '../../pkg/lab/index.js';
import { Keys } from '../../pkg/store/keys.js';
import { docker, eventually, labXctl, runContainer, useMacvlanIpamLab } from './agent-harness.js';

const NET = 'homeask';
const SPEC = { subnet: '192.168.226.0/24', gateway: '192.168.226.1', ipRange: '192.168.226.128/25', hostShim: false };
const env = useMacvlanIpamLab(2, NET, SPEC);

const ipOf = (h: LabHost, name: string) => docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]);

async function parts(): Promise<Array<{ name: string; addresses?: string[] }>> {
  return ((await env.lab.store.get('MacvlanNet', NET)) as MacvlanNet | undefined)?.status?.nodes as Array<{ name: string; addresses?: string[] }> ?? [];
}

/** The addresses the node's agent reports given to (or kept for) containers. */
async function assignedOn(node: string): Promise<string[]> {
  const v = (await env.lab.client.get(new Keys('/xnet').status('MacvlanNet', NET, { node })).json()) as { ipam?: unknown } | null;
  return decodeReport(v?.ipam)?.assigned.map((a) => a.ip) ?? [];
}

/** An agent logger that also keeps its warn and info lines (message and fields) for the test. */
function keptLog(node: string): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const log = createLogger('agent', { node });
  log.level = process.env.XNET_LOG_LEVEL ?? 'warn';
  const lines: string[] = [];
  for (const level of ['warn', 'info'] as const) {
    const write = log[level].bind(log);
    (log as unknown as Record<string, unknown>)[level] = (m: string, f?: object) => { lines.push(`${m} ${JSON.stringify(f ?? {})}`); return write(m, f); };
  }
  return { log, lines };
}

/** Docker's `disconnect` events of container `id` on host h since `since` (Docker's clock). */
async function disconnectsOf(h: LabHost, id: string, since: string): Promise<string[]> {
  const until = await docker(h, ['info', '-f', '{{.SystemTime}}']);
  const out = await docker(h, ['events', '--since', since, '--until', until, '--filter', 'type=network', '--filter', 'event=disconnect', '--format', '{{.Actor.Attributes.container}}']);
  return out.split('\n').filter((x) => x === id);
}

/**
 * Container `c` runs on host-1 and stops; host-1's agent is stopped and its Node deleted (its
 * part freed), `onOther` makes c's kept address (`home`) host-2's, host-1's agent starts again
 * (its Node made again without the home) and c starts: back on another address (`now`).
 */
async function homeTakenWhileDown(c: string, onOther: (home: string) => Promise<void>) {
  const [a] = env.lab.hosts;
  await runContainer(a, c, ['--net', NET]);
  const home = await ipOf(a, c);
  await docker(a, ['stop', '-t', '0', c]);
  await eventually(async () => (await assignedOn(a.name)).includes(home) || undefined, `${a.name}'s agent keeps ${home} for ${c}`);
  await env.lab.stopAgent(a);
  const uid = ((await env.lab.store.get('Node', a.name)) as Node | undefined)?.metadata.uid;
  const del = await labXctl(env.lab, ['delete', 'node', a.name]);
  expect(del.code, del.err).toBe(0);
  await eventually(async () => !(await parts()).some((p) => p.name === a.name), `${a.name}'s part freed`, 60_000);
  await onOther(home);
  const { log, lines } = keptLog(a.name);
  await env.lab.startAgent(a, { log });
  await eventually(async () => {
    const n = (await env.lab.store.get('Node', a.name)) as Node | undefined;
    return (n && n.metadata.uid !== uid && (await parts()).find((p) => p.name === a.name)?.addresses?.length) || undefined;
  }, `Node ${a.name} made again, with pre-claimed addresses`, 60_000);
  expect((await parts()).find((p) => p.name === a.name)?.addresses).not.toContain(home);
  const since = await docker(a, ['info', '-f', '{{.SystemTime}}']);
  await docker(a, ['start', c]);
  const now = await ipOf(a, c);
  expect(now).not.toBe(home);
  return { home, now, since, lines, id: await docker(a, ['inspect', '-f', '{{.Id}}', c]) };
}

describe('a restarted container whose kept address became another node\'s meanwhile', () => {
  it('another node\'s container uses it: never taken off the network, it keeps the address it came back with, and the kept one is freed with the controller\'s reason', async () => {
    const [a, b] = env.lab.hosts;
    // host-2's container takes the kept address (asked for by name: no cooldown)
    const { home, now, since, lines, id } = await homeTakenWhileDown('c1', async (ip) => {
      await runContainer(b, 'c2', ['--net', NET, '--ip', ip]);
      expect(await ipOf(b, 'c2')).toBe(ip);
    });
    const disconnects = () => disconnectsOf(a, id, since);
    // the outcome: the home no longer kept on host-1 (or, on the old code, c1 taken off the network)
    await eventually(async () => (!(await assignedOn(a.name)).includes(home) || (await disconnects()).length > 0) || undefined,
      `${a.name}'s agent frees ${home}, or moves c1`, 60_000);
    expect(await disconnects(), `c1 taken off the network; agent log: ${lines.join('\n')}`).toEqual([]);
    expect(await ipOf(a, 'c1')).toBe(now);
    expect(await ipOf(b, 'c2')).toBe(home);
    const why = lines.find((l) => l.startsWith('a container keeps the address it came back with') && l.includes(home));
    expect(why, lines.join('\n')).toContain(`not granted to this node: in use by a container on node \\"${b.name}\\"`);
    expect(lines.some((l) => l.startsWith('moving restarted containers back'))).toBe(false);
    // nothing left asked for: the report lists no request, xctl ipam check is clean
    const v = (await env.lab.client.get(new Keys('/xnet').status('MacvlanNet', NET, { node: a.name })).json()) as { ipam?: unknown } | null;
    expect(decodeReport(v?.ipam)?.requested).toEqual([]);
    const check = await eventually(async () => { const r = await labXctl(env.lab, ['ipam', 'check']); return r.code === 0 ? r : undefined; }, 'ipam check clean', 30_000)
      .catch(async () => labXctl(env.lab, ['ipam', 'check']));
    expect(check.code, check.out + check.err).toBe(0);
  }, 240_000);

  it('idle in another node\'s pre-claims: asked for while the container stays, given back, and the container moved home once granted', async () => {
    const [a, b] = env.lab.hosts;
    // host-2 takes the kept address by name and lets its container go: its idle pre-claim now
    const { home, since, lines, id } = await homeTakenWhileDown('d1', async (ip) => {
      await runContainer(b, 'd2', ['--net', NET, '--ip', ip]);
      await docker(b, ['rm', '-f', 'd2']);
      await eventually(async () => !(await assignedOn(b.name)).includes(ip) && (await parts()).find((p) => p.name === b.name)?.addresses?.includes(ip),
        `${ip} idle in ${b.name}'s pre-claims`, 60_000);
    });
    await eventually(async () => (await ipOf(a, 'd1')) === home || undefined, `d1 moved back to ${home}`, 90_000)
      .catch((e: Error) => { throw new Error(`${e.message}; agent log: ${lines.join('\n')}`); });
    const asked = lines.findIndex((l) => l.startsWith('asking the controller for the address kept') && l.includes(home));
    const moved = lines.findIndex((l) => l.startsWith('moving restarted containers back') && l.includes(home));
    expect(asked, lines.join('\n')).toBeGreaterThanOrEqual(0);
    expect(moved, lines.join('\n')).toBeGreaterThan(asked);
    // taken off the network, to be moved, only after the controller granted the home (one
    // `docker network disconnect` of a running container shows as two `disconnect` events)
    expect((await disconnectsOf(a, id, since)).length, lines.join('\n')).toBeGreaterThan(0);
    expect((await parts()).find((p) => p.name === a.name)?.addresses).toContain(home);
  }, 240_000);
});
