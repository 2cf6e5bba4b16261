// `xctl auth remove-node` on a host whose agent still runs: etcd refuses the agent every
// request but the lease keep-alive, which it does not check. The Node must not stay Ready on
// that keep-alive: the agent lets its lease expire once it is refused, so the Node turns
// NodeLost within the lease's TTL (docs/design.md, "Node liveness"), as for a stopped agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNodeAuth, removeNodeAuth } from '../../pkg/auth/etcd-auth.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { agentLabWithController, eventually, obj, readyCondition, downWithController, type AgentLab } from './agent-harness.js';

/** the agent's lease TTL (its default) and heartbeat interval */
const LEASE_TTL_S = 10;
const HEARTBEAT_S = 5;

let lab: AgentLab;
let controller: Controller | undefined;

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(1));
  await lab.store.create(obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' }));
  await lab.startAgent(lab.hosts[0]);
}, 240_000);

afterAll(() => downWithController(lab, controller), 120_000);

describe('a node removed with xctl auth remove-node while its agent runs', () => {
  it('turns NodeLost instead of staying Ready on its lease keep-alive', async () => {
    const [h1] = lab.hosts;
    await eventually(async () => (await readyCondition(lab.store, 'Node', h1.name))?.status === 'True', 'host-1 Ready');
    const t0 = Date.now();
    expect(await removeNodeAuth(lab.etcd.auth!.clientAs(lab.etcd.auth!.ids.root), h1.name)).toEqual({ user: true, role: true });
    // the next heartbeat is refused; the lease then lives at most one TTL
    const lost = await eventually(async () => {
      const c = await readyCondition(lab.store, 'Node', h1.name);
      return c?.status === 'False' ? c : undefined;
    }, 'Node host-1 not Ready', (HEARTBEAT_S + LEASE_TTL_S + 10) * 1000);
    expect(lost.reason).toBe('NodeLost');
    expect(Date.now() - t0).toBeLessThanOrEqual((HEARTBEAT_S + LEASE_TTL_S + 5) * 1000);
  }, 60_000);

  it('is Ready again once added back, with Ready\'s lastTransitionTime after the loss, not the agent\'s start', async () => {
    // An operator trial: after NodeLost and back, describe said "Ready True AgentReady 10m" (the
    // agent's first start) next to a NodeReady event 8 s old: the agent kept the transition
    // time of a Ready that, seen from anyone else, had been False meanwhile.
    const [h1] = lab.hosts;
    const lost = await readyCondition(lab.store, 'Node', h1.name);
    expect(lost).toMatchObject({ status: 'False', reason: 'NodeLost' });
    await addNodeAuth(lab.etcd.auth!.clientAs(lab.etcd.auth!.ids.root), h1.name);
    const back = await eventually(async () => {
      const c = await readyCondition(lab.store, 'Node', h1.name);
      return c?.status === 'True' ? c : undefined;
    }, 'Node host-1 Ready again', (HEARTBEAT_S + 10) * 1000);
    expect(Date.parse(back.lastTransitionTime!)).toBeGreaterThanOrEqual(Date.parse(lost!.lastTransitionTime!));
  }, 60_000);
});
