// dockerIPAM xnet: a `docker run` that fails for want of an address (the pool is used up) asks
// the controller for one while it waits; once it has failed, nothing waits any more. Found by
// review: the agent's report kept `want: 1` for good, so the node's part of the MacvlanNet
// stayed `ready: false` ("no free address for its containers ...") and the MacvlanNet's Ready
// False, with no request waiting. Now the node's part is ready again once the run has failed,
// and a later `docker run` still gets an address once one is free. With the pool used up
// everywhere (no idle address on any node to give back) the run fails at once, saying so, not
// after the plugin's 20 s (docs/design.md, "A pool used up everywhere"). Real dockerd, the real
// controller and agent.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BUSYBOX_IMAGE, hostDocker } from '../../pkg/lab/index.js';
import { listEvents } from '../../pkg/events/read.js';
import { docker, eventually, labXctl, runContainer, useMacvlanIpamLab } from './agent-harness.js';

const NET = 'want';
// one address for containers, no shim: the second container finds none
const SPEC = { subnet: '192.168.216.0/24', gateway: '192.168.216.1', ipRange: '192.168.216.200/32', hostShim: false };
const env = useMacvlanIpamLab(1, NET, SPEC);

type Part = { name: string; ready?: boolean; message?: string };
/** The node's part and the Ready condition as `xctl get mvn -o yaml` shows them. */
async function shown(): Promise<{ part?: Part; ready?: string }> {
  const r = await labXctl(env.lab, ['get', 'mvn', NET, '-o', 'yaml']);
  expect(r.code, r.err).toBe(0);
  const m = parseYaml(r.out) as { status?: { nodes?: Part[]; conditions?: Array<{ type: string; status: string }> } };
  return { part: m.status?.nodes?.[0], ready: m.status?.conditions?.find((c) => c.type === 'Ready')?.status };
}

describe('a docker run that failed for want of an address', () => {
  it('leaves the node\'s part ready once it is over, and a later run gets the address freed', async () => {
    const h = env.lab.hosts[0];
    await runContainer(h, 'w1', ['--net', NET]);
    const ip = await docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'w1']);
    expect(ip).toBe('192.168.216.200');
    // the break: a second container asks for an address the pool does not have, nor any node
    // idle: refused at once (the plugin's bound is 20 s), saying so
    const t0 = Date.now();
    const failed = await hostDocker(h, ['run', '-d', '--name', 'w2', '--net', NET, BUSYBOX_IMAGE, 'sleep', '1d']);
    const took = Date.now() - t0;
    expect(failed.exitCode).not.toBe(0);
    expect(failed.stderr).toContain(`MacvlanNet ${NET} is used up (no free address for this container, none to come): the one address of`);
    expect(failed.stderr).toContain('or widen spec.ipRange');
    expect(took).toBeLessThan(20_000);
    // while it asked, the node's part said why it had none (a Warning event records it: the
    // part itself is ready again within a second)
    const event = await eventually(async () => (await listEvents(env.lab.client, '/xnet', { kind: 'MacvlanNet', name: NET })).items.find((e) => e.reason === 'PoolExhausted'),
      'a PoolExhausted event');
    expect(event.message).toContain('no free address for its containers');
    // nothing waits now: the node's part and the MacvlanNet are ready again
    const after = await eventually(async () => { const s = await shown(); return s.part?.ready === true && s.ready === 'True' ? s : undefined; },
      'the node\'s part ready again after the failed run', 15_000).catch((e: Error) => e);
    if (after instanceof Error) console.log('after the failed run', JSON.stringify(await shown()));
    expect(after instanceof Error ? after.message : 'ready').toBe('ready');
    const d = await labXctl(env.lab, ['describe', 'mvn', NET]);
    expect(d.code, d.err).toBe(0);
    expect(d.out).toContain('AllNodesReady');
    // w1 goes: its address is free for the next run
    await docker(h, ['rm', '-f', 'w1', 'w2']);
    await runContainer(h, 'w3', ['--net', NET]);
    expect(await docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'w3'])).toBe(ip);
    await docker(h, ['rm', '-f', 'w3']);
  });
});
