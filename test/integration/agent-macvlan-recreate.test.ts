// A MacvlanNet deleted while a container still uses its Docker network on a host: no address
// that container answers for on the shared segment may be handed to a container on another
// host. Before the MacvlanNet had a finalizer, the delete freed every claim at once (the
// owner was gone) and xctl removed the nodes' reports right after, while host-1's network
// stayed (Docker: NetworkInUse) with c1 on it; the MacvlanNet applied again gave host-2
// host-1's old block and c2 the address c1 still had. Now the delete waits, like a NIC's
// (controller/macvlan-deleting.ts): each node keeps its part until its network is off the host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReady, MVN_FINALIZER, type MacvlanNet } from '../../pkg/api/index.js';
import { ConflictError } from '../../pkg/store/index.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { agentLabWithController, docker, downWithController, eventually, obj, runContainer, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let controller: Controller | undefined;
const mvn = (sel?: Record<string, string>) => obj('MacvlanNet', 'mv', { subnet: '192.168.210.0/24', ipRange: '192.168.210.128/25', blockPrefix: 28, dockerIPAM: 'blocks', hostShim: false, ...(sel ? { nodeSelector: { matchLabels: sel } } : {}) });
const ipOf = async (i: number, c: string) => docker(lab.hosts[i], ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', c]);
const get = async () => (await lab.store.get('MacvlanNet', 'mv')) as MacvlanNet | undefined;
const networks = async (i: number) => (await docker(lab.hosts[i], ['network', 'ls', '--format', '{{.Name}}'])).split('\n');

beforeAll(async () => {
  ({ lab, controller } = await agentLabWithController(2));
  await lab.store.applyAll([mvn()]);
  for (const h of lab.hosts) await lab.startAgent(h);
}, 240_000);
afterAll(() => downWithController(lab, controller), 120_000);

describe('a MacvlanNet deleted under a running container', () => {
  it('stays, with the part of the host still using it, until that container goes; only then can it be applied again', async () => {
    const m = await eventually(async () => { const x = await get(); return x && isReady(x) ? x : undefined; }, 'mv Ready', 90_000);
    expect(m.metadata.finalizers).toEqual([MVN_FINALIZER]);
    const block1 = m.status!.nodes!.find((n) => n.name === 'host-1')!.dockerRange!;
    await runContainer(lab.hosts[0], 'c1', ['--net', 'mv']);
    const ip1 = await ipOf(0, 'c1');
    expect(await lab.store.delete('MacvlanNet', 'mv')).toBe(true);
    // host-2 has no container on it: its part goes; host-1's stays while c1 is there
    await eventually(async () => !(await networks(1)).includes('mv') || undefined, 'host-2 took its network off', 30_000);
    const held = await eventually(async () => { const x = await get(); const n = x?.status?.nodes ?? []; return n.length === 1 && n[0].name === 'host-1' ? x : undefined; }, 'only host-1\'s part kept', 30_000);
    expect(held!.metadata.deletionTimestamp).toBeDefined();
    expect(held!.status!.nodes![0]).toMatchObject({ dockerRange: block1, ready: false });
    expect(held!.status!.nodes![0].message).toContain('being deleted');
    const node = (await lab.store.get('Node', 'host-2'))!;
    await lab.store.update({ ...node, metadata: { ...node.metadata, labels: { only: 'yes' } } });
    await expect(lab.store.applyAll([mvn({ only: 'yes' })])).rejects.toBeInstanceOf(ConflictError);
    let r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
    await docker(lab.hosts[0], ['rm', '-f', 'c1']);
    await eventually(async () => (await get()) === undefined || undefined, 'mv gone once c1 went', 30_000);
    expect(await networks(0)).not.toContain('mv');
    await lab.store.applyAll([mvn({ only: 'yes' })]);
    await eventually(async () => { const x = await get(); return x && isReady(x) ? x : undefined; }, 'mv Ready again', 90_000);
    await runContainer(lab.hosts[1], 'c2', ['--net', 'mv']);
    expect(await ipOf(1, 'c2')).toMatch(/^192\.168\.210\./);
    expect(ip1).toMatch(/^192\.168\.210\./);
    r = await ipamCheck(lab.client, '/xnet');
    expect(r.problems, r.text).toBe(0);
  }, 300_000);
});
