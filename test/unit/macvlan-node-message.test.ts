// A node's MacvlanNet message is kept at most MAX_NODE_MESSAGE long in the status every node
// reads (api/node-message.ts, used by controller/macvlan-agent.ts). The agent's messages end with what to do; a long list of
// names or addresses before it pushed that out when the cut was at the end.
import { describe, expect, it } from 'vitest';
import { clipNodeMessage } from '../../pkg/api/node-message.js';
import { MAX_NODE_MESSAGE } from '../../pkg/controller/macvlan-agent.js';
import { planDockerNetworks } from '../../pkg/agent/planner/index.js';
import { OWNER_LABEL, type DockerNetwork, type DockerNetworkSpec } from '../../pkg/docker/types.js';

const want: DockerNetworkSpec = { name: 'lan', driver: 'macvlan', subnet: '198.19.74.0/24', ipRange: '198.19.74.0/25', options: { parent: 'eth0' }, labels: { [OWNER_LABEL]: 'MacvlanNet/lan' } };
/** the agent's NetworkInUse for a network whose ip-range drifted under these containers */
const inUse = (o: Partial<DockerNetwork>) => planDockerNetworks([want], [{ ...want, ipRange: '198.19.74.128/25', id: 'n1', containers: 0, ...o }], 'MacvlanNet').problems[0].message;

describe('clipNodeMessage', () => {
  it('leaves a message within the bound as it is', () => {
    const m = 'm'.repeat(MAX_NODE_MESSAGE);
    expect(clipNodeMessage(m)).toBe(m);
  });

  it('keeps the start and the remedy of a NetworkInUse over many stopped containers, the names between cut', () => {
    const m = inUse({ stopped: Array.from({ length: 12 }, (_, i) => `batch-worker-${i + 1}`) });
    expect(m.length).toBeGreaterThan(MAX_NODE_MESSAGE);
    const c = clipNodeMessage(m);
    expect(c.length).toBeLessThanOrEqual(MAX_NODE_MESSAGE);
    expect(c).toBe('Docker network lan must be recreated (ip-range is 198.19.74.128/25, want...; disconnect them (docker network disconnect), or remove the stopped ones');
  });

  it('keeps the remedy of a NetworkInUse of running containers, whose reason is long', () => {
    const m = inUse({ containers: 3 });
    expect(m.length).toBeGreaterThan(MAX_NODE_MESSAGE);
    const c = clipNodeMessage(m);
    expect(c.length).toBeLessThanOrEqual(MAX_NODE_MESSAGE);
    expect(c).toMatch(/^Docker network lan must be recreated \(ip-range is 198\.19\.74\.128\/25, want 198\.19\.74\.0\/25\) but 3 container.*\.\.\.; disconnect them \(docker network disconnect\)$/);
  });

  it('keeps the last third of a message whose last clause is too long to keep whole, from a word', () => {
    const m = `${'why '.repeat(30)}; ${'then do this '.repeat(20)}`;
    const c = clipNodeMessage(m);
    expect(c.length).toBeLessThanOrEqual(MAX_NODE_MESSAGE);
    expect(c).toMatch(/^(why )+why\.\.\. [a-z ]+$/);
    const end = c.slice(c.indexOf('...') + 3);
    expect(end.length).toBeGreaterThan(40);
    expect(m.endsWith(end)).toBe(true);
    // a megabyte with no word in it: still bounded, its start kept
    const huge = clipNodeMessage('x'.repeat(1_400_000));
    expect(huge.length).toBeLessThanOrEqual(MAX_NODE_MESSAGE);
    expect(huge.startsWith('x'.repeat(100))).toBe(true);
  });

  it('cuts between characters, never inside one: no half of a character outside the Basic Multilingual Plane is left', () => {
    // an agent's message quotes what it met (Docker's refusal, an interface's name), which may be
    // any text; JavaScript counts UTF-16 units, and a pair cut in two prints as U+FFFD
    const asUtf8 = (s: string) => Buffer.from(s, 'utf8').toString('utf8');
    for (const m of ['\u{1F600}'.repeat(100) + 'z', 'z' + '\u{1F600}'.repeat(100), `parent \u{1F600} refused; ${'\u{1F600}'.repeat(80)}z`]) {
      const c = clipNodeMessage(m);
      expect(c.length).toBeLessThanOrEqual(MAX_NODE_MESSAGE);
      expect(c.length).toBeGreaterThan(MAX_NODE_MESSAGE - 10);
      expect(asUtf8(c)).toBe(c);
      expect(c).toContain('...');
    }
  });
});
