// dockerIPAM blocks end to end: host-2's Docker accepts a `docker run --ip` of an address a
// container on host-1 holds in host-1's block (Docker checks --ip only against its own node's
// containers), so two hosts on one macvlan segment answer for it. xnet cannot refuse it; it
// names it: host-2's agent reports the address its container holds outside host-2's block, the
// controller lists the duplicate, and `xctl ipam check` and `xctl verify` exit 1 naming the
// address and both holders; a container made but not running that keeps the --ip address is
// named too (docs/api.md: stopped ones keep theirs). Once the containers are removed, both are
// clean again.
import { describe, expect, test } from 'vitest';
import { useTestLab } from '../harness/lab.js';
import { apply, containerIp, getObject, runContainer, waitFor, waitReady } from './helpers.js';

const MACVLAN = `
apiVersion: xnet.io/v1alpha1
kind: MacvlanNet
metadata: {name: dupseg}
spec:
  subnet: 198.19.210.0/24
  gateway: 198.19.210.1
  ipRange: 198.19.210.128/25
  parent: eth0
  hostShim: true
  blockPrefix: 28
  dockerIPAM: blocks
`;

describe('an address of another host\'s block given by docker run --ip (dockerIPAM blocks)', () => {
  const lab = useTestLab({ hosts: 2, agents: true, controllers: 1 });

  test('is named by xctl ipam check and xctl verify (exit 1), and no longer once the container is gone', async () => {
    for (const h of ['host-1', 'host-2']) await waitReady(lab(), 'node', h);
    await apply(lab(), MACVLAN);
    await waitReady(lab(), 'macvlannet', 'dupseg');
    await runContainer(lab(), 'host-1', 'first', 'dupseg');
    const taken = await containerIp(lab(), 'host-1', 'first', 'dupseg');
    const block = (await getObject(lab(), 'macvlannet', 'dupseg')).status.nodes.find((n: { name: string }) => n.name === 'host-1').dockerRange;
    const ok = await lab().xctl(['ipam', 'check']);
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);

    // host-2's Docker accepts it: it knows only host-2's containers
    await lab().docker('host-2', ['run', '-d', '--name', 'second', '--net', 'dupseg', '--ip', taken, 'xnet/busybox:latest', 'sleep', '1d'], { check: true });
    expect(await containerIp(lab(), 'host-2', 'second', 'dupseg')).toBe(taken);

    const said = `${taken} is held twice: container second on node host-2 and node host-1's Docker block ${block} (its Docker hands it out)`;
    const check = await waitFor('xctl ipam check naming the duplicate', async () => {
      const r = await lab().xctl(['ipam', 'check']);
      return r.exitCode === 1 && r.stdout.includes(said) ? r : undefined;
    }, 30_000, 500);
    expect(check.value.stdout).toContain(`macvlannet/dupseg ${said}`);
    const verify = await waitFor('xctl verify naming the duplicate', async () => {
      const r = await lab().xctl(['verify'], { timeoutMs: 60_000 });
      return r.exitCode === 1 && r.stdout.includes(said) ? r : undefined;
    }, 30_000, 1000);
    expect(verify.value.stdout).toMatch(/host-2\s+macvlannet\/dupseg/);

    // a container that is not running keeps its --ip address (it gets it back when it starts):
    // still held twice once the running one is gone
    await lab().docker('host-2', ['create', '--name', 'third', '--net', 'dupseg', '--ip', taken, 'xnet/busybox:latest', 'sleep', '1d'], { check: true });
    await lab().docker('host-2', ['rm', '-f', 'second'], { check: true });
    const kept = `${taken} is held twice: container third on node host-2 and node host-1's Docker block ${block}`;
    await waitFor('xctl ipam check naming the container not running', async () => {
      const r = await lab().xctl(['ipam', 'check']);
      return r.exitCode === 1 && r.stdout.includes(kept) ? r : undefined;
    }, 30_000, 500);

    await lab().docker('host-2', ['rm', '-f', 'third'], { check: true });
    await waitFor('xctl ipam check clean again', async () => ((await lab().xctl(['ipam', 'check'])).exitCode === 0 ? true : undefined), 30_000, 500);
  }, 300_000);
});
