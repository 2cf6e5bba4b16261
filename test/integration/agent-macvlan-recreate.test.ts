// A MacvlanNet deleted while a container still uses its Docker network on a host, then applied
// again under the same name: no address that container answers for on the shared segment may
// be handed to a container on another host.
//
// KNOWN BUG, not fixed yet (it.fails: this file fails once it is fixed; flip it then). The
// delete frees every claim of the MacvlanNet at once (gc/uid: the owner is gone) and xctl
// removes the nodes' reports right after, while host-1's Docker network stays (NetworkInUse)
// with c1 on it. The MacvlanNet applied again knows nothing of it: host-2 gets host-1's old
// block and c2 the address c1 still has, on the same segment. The fix is keep-until-gone for
// a MacvlanNet's delete, as macvlan-leaving.ts does for a node that stops being selected (a
// finalizer released per node once its agent has taken the network off the host).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReady, type MacvlanNet } from '../../pkg/api/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { agentLabWithController, docker, downWithController, eventually, obj, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let controller: Controller | undefined;
const mvn = (sel?: Record<string, string>) => obj('MacvlanNet', 'mv', { subnet: '192.168.210.0/24', ipRange: '192.168.210.128/25', blockPrefix: 28, dockerIPAM: 'blocks', hostShim: false, ...(sel ? { nodeSelector: { matchLabels: sel } } : {}) });
const ipOf = async (i: number, c: string) => docker(lab.hosts[i], ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', c]);

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(2));
  await lab.store.applyAll([mvn()]);
  for (const h of lab.hosts) await lab.startAgent(h);
}, 240_000);
afterAll(() => downWithController(lab, controller), 120_000);

describe('a MacvlanNet deleted under a running container and applied again', () => {
  it.fails('does not give another host the addresses the old network still uses', async () => {
    const m = await eventually(async () => { const x = (await lab.store.get('MacvlanNet', 'mv')) as MacvlanNet | undefined; return x && isReady(x) ? x : undefined; }, 'mv Ready', 90_000);
    await runContainer(lab.hosts[0], 'c1', ['--net', 'mv']);
    const ip1 = await ipOf(0, 'c1');
    expect(await lab.store.delete('MacvlanNet', 'mv')).toBe(true);
    for (const n of ['host-2']) {
      const node = (await lab.store.get('Node', n))!;
      await lab.store.update({ ...node, metadata: { ...node.metadata, labels: { only: 'yes' } } });
    }
    await lab.store.applyAll([mvn({ only: 'yes' })]);
    await eventually(async () => { const x = (await lab.store.get('MacvlanNet', 'mv')) as MacvlanNet | undefined; return x && isReady(x) ? x : undefined; }, 'mv Ready again', 90_000);
    await runContainer(lab.hosts[1], 'c2', ['--net', 'mv']);
    const ip2 = await ipOf(1, 'c2');
    expect(ip2).not.toBe(ip1);
  }, 300_000);
});

