// Self-healing end to end: disturb what the agents made, by hand, and watch it come back.
// Every break is checked before the wait (breakAndCheck), the lab's agents run with their
// periodic resync an hour away, and each heal is awaited for a few seconds: only events heal
// in time. Each heal time is printed (from the break to the first check that passes); nothing
// asserts on the times themselves beyond that bound.
import { afterAll, describe, expect, test } from 'vitest';
import { breakAndCheck, breakVerified, mustSucceed } from '../harness/heal.js';
import { useTestLab } from '../harness/lab.js';
import {
  apply, containerIfAddrs, containerIp, expectLabVerifyClean, getObject, hostRoutes, inContainerNetns, inspectContainer, inspectNetwork, printHeal, runContainer, unreachableFrom, waitFor, waitReachable, waitReady,
} from './helpers.js';

const CLUSTER = `
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: default}
spec: {cidr: 10.76.0.0/16, hostPrefix: 24, reserved: [10.76.0.0/24], dockerNetwork: net1}
`;
const NICS = ['host-1', 'host-2'].flatMap((h) => ['eth1', 'eth2'].map((i) => `
apiVersion: xnet.io/v1alpha1
kind: ContainerNic
metadata: {name: ${h}-test-${i}}
spec: {node: ${h}, container: test, ifName: ${i}, network: {clusterNetwork: default}}
`)).join('---');

// Generous per-test limits: set-up steps (apply, docker run, waits for Ready) crawl on a loaded
// machine; the heal waits themselves stay bounded by breakAndCheck.
describe('self-healing', { timeout: 150_000 }, () => {
  const lab = useTestLab({ hosts: 2, agents: true, controllers: 2 });
  const heals: [string, number][] = [];
  const healed = (what: string, ms: number) => { heals.push([what, ms]); printHeal(what, ms); };
  const subnet: Record<string, string> = {};
  const nicIp: Record<string, string> = {};

  afterAll(() => {
    if (heals.length) console.log(`heal times (ms):\n${heals.map(([w, ms]) => `  ${w.padEnd(50)} ${ms}`).join('\n')}`);
  });

  test('the cluster network is up on both hosts', async () => {
    await apply(lab(), CLUSTER);
    for (const h of ['host-1', 'host-2']) {
      await waitReady(lab(), 'hostsubnet', `default-${h}`);
      subnet[h] = (await getObject(lab(), 'hostsubnet', `default-${h}`)).status.subnet;
    }
  });

  test('a bridge deleted by hand (ip link del) is made again, and carries traffic', async () => {
    // the bridge alone is made again, under the network Docker keeps (its id stays); with
    // containers on it too (test/integration/agent-hostsubnet-bridge.test.ts)
    const bridge = (await getObject(lab(), 'hostsubnet', 'default-host-2')).status.bridge as string;
    const onHost2 = (argv: string[]) => lab().exec('host-2', argv);
    // Docker's answers asked over its API from this process (helpers.ts inspectNetwork): a look is polled
    const net1 = async () => {
      const n = await inspectNetwork(lab(), 'host-2', 'net1');
      return `${n.Id} ${(n.IPAM?.Config ?? []).map((c: { Subnet?: string }) => c.Subnet ?? '').join('')} ${n.Options?.['com.docker.network.bridge.name'] ?? ''}`;
    };
    const id = (await inspectNetwork(lab(), 'host-2', 'net1')).Id as string;
    const ifindex = (await onHost2(['cat', `/sys/class/net/${bridge}/ifindex`])).stdout.trim();
    const ms = await breakAndCheck('bridge deleted', {
      whole: async () => {
        const link = await onHost2(['ip', '-o', '-4', 'addr', 'show', 'dev', bridge]);
        return link.exitCode === 0 && link.stdout.includes('inet ') && (await net1()) === `${id} ${subnet['host-2']} ${bridge}`;
      },
      // proven by its ifindex gone: the agent makes the bridge again (new ifindex) within the
      // milliseconds an `ip` preempted between its break and its probe may take
      breakIt: () => breakVerified(onHost2, ['ip', 'link', 'del', bridge], { argv: ['ip', '-o', 'link', 'show'], gone: `\n${ifindex}: ${bridge}:` }),
    });
    healed('bridge deleted (ip link del)', ms);
    // traffic: a container on host-1 reaches one on the remade bridge of host-2
    for (const h of ['host-1', 'host-2']) await runContainer(lab(), h, 'probe', 'net1');
    expect(await unreachableFrom(lab(), 'host-1', 'probe', [await containerIp(lab(), 'host-2', 'probe', 'net1')])).toEqual([]);
    for (const h of ['host-1', 'host-2']) await lab().docker(h, ['rm', '-f', 'probe'], { check: true });
  });

  test('containers with two extra NICs each', async () => {
    for (const h of ['host-1', 'host-2']) await runContainer(lab(), h, 'test', 'net1');
    await apply(lab(), NICS);
    for (const h of ['host-1', 'host-2']) for (const i of ['eth1', 'eth2']) {
      await waitReady(lab(), 'containernic', `${h}-test-${i}`);
      nicIp[`${h}/${i}`] = (await getObject(lab(), 'containernic', `${h}-test-${i}`)).status.ip;
    }
    expect(await unreachableFrom(lab(), 'host-1', 'test', [nicIp['host-2/eth1']])).toEqual([]);
  });

  const routeBack = (host: string, dst: string) => async () => (await hostRoutes(lab(), host)).some((r) => r.dst === dst);
  const hostExec = (host: string) => (argv: string[]) => lab().exec(host, argv);

  test('a route deleted by hand comes back', async () => {
    const ms = await breakAndCheck('route deleted', {
      whole: routeBack('host-1', subnet['host-2']),
      breakIt: () => breakVerified(hostExec('host-1'), ['ip', 'route', 'del', subnet['host-2']], { argv: ['ip', 'route', 'show'], gone: subnet['host-2'] }),
    });
    healed('route deleted (ip route del)', ms);
    await waitReachable(lab(), 'host-1', 'test', [nicIp['host-2/eth1']]);
  });

  test('an extra NIC deleted inside a container comes back', async () => {
    // traffic first, so the path holds what a live peer would have learned (neighbour entries)
    await waitReachable(lab(), 'host-2', 'test', [nicIp['host-1/eth1']]);
    const ms = await breakAndCheck('NIC deleted in the container', {
      whole: async () => (await containerIfAddrs(lab(), 'host-1', 'test', 'eth1')).includes(nicIp['host-1/eth1']),
      breakIt: () => breakVerified((argv) => inContainerNetns(lab(), 'host-1', 'test', argv), ['ip', 'link', 'del', 'eth1'], { argv: ['ip', '-o', 'link', 'show'], gone: ': eth1@' }),
    });
    healed('NIC deleted inside the container (ip link del)', ms);
    const reach = await waitReachable(lab(), 'host-2', 'test', [nicIp['host-1/eth1']]);
    healed('  ... and reachable from the other host again', ms + reach);
  });

  test('a restarted container gets its NICs back', async () => {
    await waitReachable(lab(), 'host-1', 'test', [nicIp['host-2/eth1'], nicIp['host-2/eth2']]);
    const startedAt = async () => String((await inspectContainer(lab(), 'host-2', 'test')).State.StartedAt);
    const before = await startedAt();
    const ms = await breakAndCheck('container restarted', {
      whole: async () => {
        const [a, b] = await Promise.all([containerIfAddrs(lab(), 'host-2', 'test', 'eth1'), containerIfAddrs(lab(), 'host-2', 'test', 'eth2')]);
        return a.includes(nicIp['host-2/eth1']) && b.includes(nicIp['host-2/eth2']);
      },
      breakIt: async () => {
        mustSucceed('docker restart', await lab().docker('host-2', ['restart', '-t', '0', 'test']));
        expect(await startedAt()).not.toBe(before);
      },
    });
    healed('container restarted (docker restart)', ms);
    const reach = await waitReachable(lab(), 'host-1', 'test', [nicIp['host-2/eth1'], nicIp['host-2/eth2']]);
    healed('  ... and reachable from the other host again', ms + reach);
  });

  test('an agent killed, with drift while it was down, restores it when restarted', async () => {
    expect(await lab().killAgent('host-1'), 'a running agent on host-1 to kill').toBe(true);
    await breakVerified(hostExec('host-1'), ['ip', 'route', 'del', subnet['host-2']], { argv: ['ip', 'route', 'show'], gone: subnet['host-2'] });
    await lab().startAgent('host-1');
    // timed from the agent's start: while it was down nothing could heal
    const { ms } = await waitFor('route back after agent restart', routeBack('host-1', subnet['host-2']), 60_000);
    healed('agent killed and restarted (route deleted meanwhile)', ms);
    await waitReady(lab(), 'node', 'host-1');
    await waitReachable(lab(), 'host-1', 'test', [nicIp['host-2/eth2']]);
  }, 90_000);

  test('ends with xctl lab verify clean: every heal left exactly what etcd declares', async () => {
    await expectLabVerifyClean(lab());
  });
});
