// `docker network connect --ip` of a free address outside the node's pool, for a container that
// was on the MacvlanNet before (disconnected: its address was kept for it until the agent's
// pass saw it off the network; now that pass frees it, docker-ipam-disconnect.test.ts, so the
// blocked inspect below happens only if the connect comes before that pass). Docker holds that
// container's lock for the whole connect, so an inspect of it waits until the plugin answers.
// The agent's macvlan pass inspects such a container (settleUnseen); the controller's grant
// reached the waiting request only through that same pass (book.setPool), which then waited
// behind the blocked one: the grant came within a second or two and the request was still
// refused at its 20 s bound ("was not granted to this node"), the address left in the pool.
import { describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { hostDocker } from '../../pkg/lab/index.js';
import { docker, eventually, runContainer, useMacvlanIpamLab } from './agent-harness.js';

const env = useMacvlanIpamLab(1, 'lan', { subnet: '192.168.211.0/24', gateway: '192.168.211.1', ipRange: '192.168.211.128/25' });

describe('docker network connect --ip on a container that was on the network', () => {
  it('is granted as soon as the controller claims the address, not refused at 20 s', async () => {
    const h = env.lab.hosts[0];
    await runContainer(h, 'c1', ['--net', 'lan']);
    await docker(h, ['network', 'disconnect', 'lan', 'c1']);
    // the pass that follows the disconnect has settled c1's kept address
    await new Promise((r) => setTimeout(r, 2000));
    const want = '192.168.211.230';
    const pool = ((await env.lab.store.get('MacvlanNet', 'lan')) as MacvlanNet).status?.nodes as Array<{ addresses?: string[] }>;
    expect(pool[0]?.addresses ?? []).not.toContain(want);
    const t0 = Date.now();
    const connect = hostDocker(h, ['network', 'connect', '--ip', want, 'lan', 'c1']);
    // any container event starts a macvlan pass now, while Docker holds c1 (the lab's other
    // hosts' reports did the same); --net none: it does not wait for the plugin's turn
    await new Promise((res) => setTimeout(res, 300));
    await runContainer(h, 'poke', ['--net', 'none']);
    const r = await connect;
    // granted (exit 0): a request the plugin still refused would have failed at its 20 s deadline
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    console.log(`docker network connect --ip granted in ${Date.now() - t0} ms`);
    const ip = await eventually(async () => (await docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'c1'])) || undefined, 'c1 on lan', 10_000);
    expect(ip).toBe(want);
    // and stays there: the agent's next passes do not move it back to the address kept for it
    await runContainer(h, 'poke2', ['--net', 'none']);
    await new Promise((res) => setTimeout(res, 3000));
    expect(await docker(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'c1'])).toBe(want);
  });
});
