// A HostSubnet's Docker network with containers on it, as an operator meets it: a stopped
// container still references the network by id (Docker asks for that id at `docker start`), so
// a network made anew would strand it; and a bridge deleted by hand while containers are on
// it is made again under them, not left gone. Each heal is awaited for seconds, far below the
// agents' resync (an hour here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNetwork } from '../../pkg/api/index.js';
import { hostDocker, hostExec } from '../../pkg/lab/index.js';
import { breakAndCheck, breakVerified, mustSucceed } from '../harness/heal.js';
import { agentLab, createDefaultNetwork, docker, eventually, readyCondition, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];

const netId = () => docker(h1(), ['network', 'inspect', '-f', '{{.Id}}', 'net1']);
const hostSubnetReady = () => readyCondition(lab.store, 'HostSubnet', 'default-host-1');

async function setMtu(mtu: number | undefined): Promise<void> {
  const cn = (await lab.store.get('ClusterNetwork', 'default')) as ClusterNetwork;
  const { mtu: _old, ...rest } = cn.spec;
  await lab.store.update({ ...cn, spec: mtu === undefined ? rest : { ...rest, mtu } } as ClusterNetwork);
  expect(((await lab.store.get('ClusterNetwork', 'default')) as ClusterNetwork).spec.mtu).toBe(mtu);
}

/** A container on net1 on host-1, stopped (its exit checked): it holds no endpoint, only net1's id. */
async function stoppedOnNet1(name: string): Promise<void> {
  await runContainer(h1(), name, ['--net', 'net1']);
  await docker(h1(), ['stop', '-t', '0', name]);
  expect(await docker(h1(), ['inspect', '-f', '{{.State.Running}}', name])).toBe('false');
}

beforeAll(async () => {
  lab = await agentLab(2);
  await createDefaultNetwork(lab.store, 2);
  await Promise.all(lab.hosts.map((h) => lab.startAgent(h)));
  for (const h of ['default-host-1', 'default-host-2']) {
    await eventually(async () => (await readyCondition(lab.store, 'HostSubnet', h))?.status === 'True', `${h} Ready`, 30_000);
  }
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a HostSubnet network that stopped containers reference', () => {
  it('is not made again for a ClusterNetwork edit (NetworkInUse, naming the stopped container), and the container starts', async () => {
    await stoppedOnNet1('s1');
    const before = await netId();
    await setMtu(1400);
    try {
      const c = await eventually(async () => { const r = await hostSubnetReady(); return r?.reason === 'NetworkInUse' ? r : undefined; }, 'NetworkInUse', 10_000)
        .catch(async (e) => { throw new Error(`${(e as Error).message}; net1 id ${before} -> ${await netId()}`); });
      expect(c.message).toContain('s1');
      expect(c.message).toMatch(/stopped/);
      expect(await netId()).toBe(before);
      mustSucceed('docker start s1', await hostDocker(h1(), ['start', 's1']));
    } finally {
      await setMtu(undefined);
    }
    await eventually(async () => (await hostSubnetReady())?.status === 'True', 'Ready again once the spec is as net1 was made', 10_000);
    expect(await netId()).toBe(before);
    await docker(h1(), ['rm', '-f', 's1']);
  }, 60_000);
});
