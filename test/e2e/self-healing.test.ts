// Self-healing end to end: disturb what the agents made, by hand, and watch it come back.
// Each heal time is printed (from the disturbance to the moment the check first passes);
// nothing asserts on the times themselves.
import { afterAll, describe, expect, test } from 'vitest';
import { useTestLab } from '../harness/lab.js';
import {
  apply, containerIfAddrs, getObject, hostRoutes, inContainerNetns, printHeal, runContainer, unreachableFrom, waitFor, waitReachable, waitReady,
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

describe('self-healing', () => {
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

  test('a Docker bridge network removed by hand is made again', async () => {
    // before any container joins it: Docker refuses to remove a network in use
    await lab().docker('host-2', ['network', 'rm', 'net1'], { check: true });
    const { ms } = await waitFor('net1 back on host-2', async () => {
      const r = await lab().docker('host-2', ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', 'net1']);
      return r.exitCode === 0 && r.stdout.trim() === subnet['host-2'];
    });
    healed('bridge network removed (docker network rm)', ms);
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

  test('a route deleted by hand comes back', async () => {
    expect(await routeBack('host-1', subnet['host-2'])()).toBe(true);
    await lab().exec('host-1', ['ip', 'route', 'del', subnet['host-2']], { check: true });
    const { ms } = await waitFor(`route to ${subnet['host-2']} on host-1`, routeBack('host-1', subnet['host-2']));
    healed('route deleted (ip route del)', ms);
    await waitReachable(lab(), 'host-1', 'test', [nicIp['host-2/eth1']]);
  });

  test('an extra NIC deleted inside a container comes back', async () => {
    // traffic first, so the path holds what a live peer would have learned (neighbour entries)
    await waitReachable(lab(), 'host-2', 'test', [nicIp['host-1/eth1']]);
    await inContainerNetns(lab(), 'host-1', 'test', ['ip', 'link', 'del', 'eth1']).then((r) => expect(r.exitCode).toBe(0));
    const { ms } = await waitFor('eth1 back in host-1/test', async () => (await containerIfAddrs(lab(), 'host-1', 'test', 'eth1')).includes(nicIp['host-1/eth1']));
    healed('NIC deleted inside the container (ip link del)', ms);
    const reach = await waitReachable(lab(), 'host-2', 'test', [nicIp['host-1/eth1']]);
    healed('  ... and reachable from the other host again', ms + reach);
  });

  test('a restarted container gets its NICs back', async () => {
    await waitReachable(lab(), 'host-1', 'test', [nicIp['host-2/eth1'], nicIp['host-2/eth2']]);
    await lab().docker('host-2', ['restart', '-t', '0', 'test'], { check: true });
    const { ms } = await waitFor('eth1 and eth2 back in host-2/test', async () => {
      const [a, b] = await Promise.all([containerIfAddrs(lab(), 'host-2', 'test', 'eth1'), containerIfAddrs(lab(), 'host-2', 'test', 'eth2')]);
      return a.includes(nicIp['host-2/eth1']) && b.includes(nicIp['host-2/eth2']);
    });
    healed('container restarted (docker restart)', ms);
    const reach = await waitReachable(lab(), 'host-1', 'test', [nicIp['host-2/eth1'], nicIp['host-2/eth2']]);
    healed('  ... and reachable from the other host again', ms + reach);
  });

  test('an agent killed, with drift while it was down, restores it when restarted', async () => {
    await lab().killAgent('host-1');
    await lab().exec('host-1', ['ip', 'route', 'del', subnet['host-2']], { check: true });
    await lab().startAgent('host-1');
    // timed from the agent's start: while it was down nothing could heal
    const { ms } = await waitFor('route back after agent restart', routeBack('host-1', subnet['host-2']), 60_000);
    healed('agent killed and restarted (route deleted meanwhile)', ms);
    await waitReady(lab(), 'node', 'host-1');
    await waitReachable(lab(), 'host-1', 'test', [nicIp['host-2/eth2']]);
  }, 90_000);
});
