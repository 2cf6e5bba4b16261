// A node's message on a MacvlanNet is copied by the controller into the status every node
// reads, at most MAX_NODE_MESSAGE long. It was cut at its end, and the agent's messages end with
// what to do: a Docker network that must be made again under a dozen stopped containers named
// them all, and `xctl describe mvn` showed the names and "...", never "disconnect them". Real
// etcd, the real controller; the node's report is written as its agent writes it, with the
// message the agent's planner gives (planner/docker-networks.ts).
import { describe, expect, it } from 'vitest';
import { planDockerNetworks } from '../../pkg/agent/planner/index.js';
import { MAX_NODE_MESSAGE } from '../../pkg/controller/macvlan-agent.js';
import { OWNER_LABEL, type DockerNetworkSpec } from '../../pkg/docker/types.js';
import { eventually } from './helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';

const fx = useMacvlanParts();

/** The agent's NetworkInUse for `mvn`'s Docker network, whose ip-range drifted under stopped containers. */
function networkInUse(mvn: string, stopped: string[]): string {
  const want: DockerNetworkSpec = { name: mvn, driver: 'macvlan', subnet: '198.19.74.0/24', ipRange: '198.19.74.0/25', options: { parent: 'eth0' }, labels: { [OWNER_LABEL]: `MacvlanNet/${mvn}` } };
  const plan = planDockerNetworks([want], [{ ...want, ipRange: '198.19.74.128/25', id: 'n1', containers: 0, stopped }], 'MacvlanNet');
  expect(plan.problems[0]?.reason).toBe('NetworkInUse');
  return plan.problems[0].message;
}

describe('a node\'s MacvlanNet message longer than the status keeps', () => {
  it('is stored with its start and its remedy, the list between shortened', async () => {
    await fx.segment('long', { subnet: '198.19.74.0/24', dockerIPAM: 'blocks', blockPrefix: 28, hostShim: false }, 'long', ['lm-1']);
    await fx.beat(['lm-1']);
    const message = networkInUse('long', Array.from({ length: 12 }, (_, i) => `batch-worker-${i + 1}`));
    const remedy = 'disconnect them (docker network disconnect), or remove the stopped ones';
    expect(message.length).toBeGreaterThan(MAX_NODE_MESSAGE);
    expect(message.endsWith(remedy)).toBe(true);
    await fx.store.writeStatus('MacvlanNet', 'long', { node: 'lm-1' }, { name: 'lm-1', parent: 'eth0', ready: false, message });
    const part = await eventually(async () => { const p = await fx.partOf('long', 'lm-1'); return p?.message?.startsWith('Docker network') && p; }, 'lm-1\'s part says what its agent reported');
    expect(part.ready).toBe(false);
    expect(part.message!.length).toBeLessThanOrEqual(MAX_NODE_MESSAGE);
    // what is wrong, then what to do; the names between are what went
    expect(part.message).toMatch(/^Docker network long must be recreated \(ip-range is 198\.19\.74\.128\/25, .*\.\.\.; /);
    expect(part.message!.endsWith(`; ${remedy}`)).toBe(true);
  });
});
