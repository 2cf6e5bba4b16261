// A node a MacvlanNet no longer selects (a label or its nodeSelector changed) keeps its Docker
// network while containers use it, and so does every node of a MacvlanNet being deleted
// (docs/api.md, spec.nodeSelector): the controller keeps only the addresses those containers
// use and sends no refill. Found in the lab: `docker run --net <it>` there waited the plugin's
// 20 s for a refill that never comes and then said "no free address ... is ipRange used up?",
// while the pool had plenty. Real dockerd, the real controller and agent.
import { describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { hostDocker } from '../../pkg/lab/index.js';
import { docker, eventually, labXctl, obj, runContainer, useMacvlanIpamLab } from './agent-harness.js';

const NET = 'leave';
const SPEC = { subnet: '192.168.213.0/24', gateway: '192.168.213.1', ipRange: '192.168.213.128/25' };
const env = useMacvlanIpamLab(1, NET, SPEC);

async function part(): Promise<{ ready?: boolean; message?: string; addresses?: string[] } | undefined> {
  const m = (await env.lab.store.get('MacvlanNet', NET)) as MacvlanNet | undefined;
  return (m?.status?.nodes as Array<{ ready?: boolean; message?: string; addresses?: string[] }> | undefined)?.[0];
}

describe('docker run on a node the MacvlanNet no longer serves', () => {
  it('is refused at once saying why (not selected, being deleted), while the running container keeps its address', async () => {
    const h = env.lab.hosts[0];
    await runContainer(h, 'c1', ['--net', NET]);
    const ip = await docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'c1']);
    await env.lab.store.applyAll([obj('MacvlanNet', NET, { ...SPEC, nodeSelector: { matchLabels: { rack: 'a' } } })]);
    // the break: the node is no longer selected, its part kept for c1 only
    await eventually(async () => { const p = await part(); return p?.ready === false && p.message?.startsWith('no longer selected') && p; }, 'the node no longer selected');
    const r = await hostDocker(h, ['run', '-d', '--name', 'c2', '--net', NET, 'xnet/busybox:latest', 'sleep', '1d']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`MacvlanNet ${NET} no longer selects node ${h.name} (nodeSelector rack=a)`);
    const pinned = await hostDocker(h, ['run', '-d', '--name', 'c3', '--net', NET, '--ip', '192.168.213.200', 'xnet/busybox:latest', 'sleep', '1d']);
    expect(pinned.stderr).toContain(`MacvlanNet ${NET} no longer selects node ${h.name}`);
    expect(await docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'c1'])).toBe(ip);
    // deleted while c1 uses it: it waits for c1, and hands out nothing new meanwhile
    await env.lab.store.applyAll([obj('MacvlanNet', NET, SPEC)]);
    await eventually(async () => (await part())?.ready === true, 'the node selected again');
    const del = await labXctl(env.lab, ['delete', 'mvn', NET]);
    expect(del.code, del.err).toBe(0);
    await eventually(async () => { const p = await part(); return p?.ready === false && p; }, 'the node\'s part says the MacvlanNet is being deleted');
    const late = await hostDocker(h, ['run', '-d', '--name', 'c4', '--net', NET, 'xnet/busybox:latest', 'sleep', '1d']);
    expect(late.stderr).toContain(`MacvlanNet ${NET} is being deleted`);
    // c1 goes: the network, then the MacvlanNet
    await docker(h, ['rm', '-f', 'c1', 'c2', 'c3', 'c4']);
    await eventually(async () => (await env.lab.store.get('MacvlanNet', NET)) === undefined || undefined, 'the MacvlanNet gone once c1 went', 30_000);
  });
});
