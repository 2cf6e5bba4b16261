// dockerIPAM xnet: `docker run --ip X` on one host while X is another host's idle pre-claim. Found in a
// Docker user's trial: refused for good (host-1's plugin saw X in host-2's addresses and said
// "held by node host-2"), and nothing short of deleting Node host-2 got X to host-1. Now the
// controller asks host-2 for X (status.nodes[].giveBack), host-2's agent gives it back, and the
// run succeeds within the plugin's 20 s; an X a container on host-2 uses is refused at once,
// naming host-2. Real dockerd, the real controller and agents (docs/controller.md).
import { describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { BUSYBOX_IMAGE, hostDocker } from '../../pkg/lab/index.js';
import { docker, eventually, labXctl, runContainer, useMacvlanIpamLab } from './agent-harness.js';

const NET = 'gback';
// eight addresses, no shims
const SPEC = { subnet: '192.168.219.0/24', gateway: '192.168.219.1', ipRange: '192.168.219.200/29', hostShim: false };
const env = useMacvlanIpamLab(2, NET, SPEC);

type Part = { name: string; addresses?: string[]; giveBack?: string[] };
async function parts(): Promise<Part[]> {
  const m = (await env.lab.store.get('MacvlanNet', NET)) as MacvlanNet | undefined;
  return ((m?.status as { nodes?: Part[] } | undefined)?.nodes) ?? [];
}
const addressesOf = async (node: string) => (await parts()).find((p) => p.name === node)?.addresses ?? [];
const ipOf = (h: (typeof env.lab.hosts)[number], name: string) => docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]);

describe('docker run --ip of another host\'s pre-claim (real dockerd)', () => {
  it('gets an idle one within the plugin\'s bound, and is refused at once naming the host whose container uses one', async () => {
    // the first agent to join takes what its share allows (all eight while alone); the other
    // asks for nothing: the holder is whichever holds two or more
    const [p, q] = env.lab.hosts;
    const h2 = await eventually(async () => {
      const [a, b] = [await addressesOf(p.name), await addressesOf(q.name)];
      return a.length + b.length === 8 ? (a.length >= 2 ? p : q) : undefined;
    }, 'the pool pre-claimed');
    const h1 = h2 === p ? q : p;
    const [n1, n2] = [h1.name, h2.name];
    const [y, x] = [(await addressesOf(n2))[0], (await addressesOf(n2)).at(-1)!];
    // idle on the holder (h2): asked back, given back, granted to the asker (h1)
    const t0 = Date.now();
    await runContainer(h1, 'gb1', ['--net', NET, '--ip', x]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(await ipOf(h1, 'gb1')).toBe(x);
    expect(await addressesOf(n1)).toContain(x);
    expect(await addressesOf(n2)).not.toContain(x);
    await eventually(async () => (await parts()).every((p) => !p.giveBack), 'nothing asked back any more');
    // in use on the holder: refused at once, naming it; its container keeps it
    await runContainer(h2, 'gb2', ['--net', NET, '--ip', y]);
    const t1 = Date.now();
    const refused = await hostDocker(h1, ['run', '-d', '--name', 'gb3', '--net', NET, '--ip', y, BUSYBOX_IMAGE, 'sleep', '1d']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(`${y} on MacvlanNet ${NET} is in use by a container on node "${n2}" (running, or stopped and keeping its address)`);
    expect(Date.now() - t1).toBeLessThan(20_000);
    expect(await ipOf(h2, 'gb2')).toBe(y);
    expect(await addressesOf(n2)).toContain(y);
    const check = await labXctl(env.lab, ['ipam', 'check']);
    expect(check.code, check.out + check.err).toBe(0);
    await docker(h1, ['rm', '-f', 'gb1', 'gb3']);
    await docker(h2, ['rm', '-f', 'gb2']);
  }, 120_000);
});
