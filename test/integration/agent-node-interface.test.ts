// A Node whose pinned spec.interface the host lacks (a typo: the interface is the default
// macvlan parent) is said by the agent's own Node report (InterfaceOnHost), not only through a
// MacvlanNet's ParentMissing, and the report follows the link as it appears, is renamed away,
// comes back and goes, on kernel events alone: the heartbeat timer is pushed out of the test's
// reach. A real agent on a lab host (a network namespace of its own); no dockerd is needed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCondition, type Condition, type Node } from '../../pkg/api/index.js';
import { hostExec, type LabHost } from '../../pkg/lab/index.js';
import { agentLab, eventually, obj, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
let host: LabHost;

beforeAll(async () => {
  lab = await agentLab(1, { docker: false });
  host = lab.hosts[0];
  await lab.startAgent(host, { ipamPlugin: undefined, events: { docker: false }, heartbeatMs: 3_600_000 });
}, 240_000);
afterAll(async () => { await lab?.down(); }, 120_000);

const nodeCondition = async (type: string) => getCondition(((await lab.store.get('Node', 'host-1')) as Node | undefined)?.status?.conditions, type);
const until = (match: (c: Condition) => boolean, what: string) =>
  eventually(async () => { const c = await nodeCondition('InterfaceOnHost'); return c && match(c) ? c : undefined; }, what, 20_000);
const ip = async (...argv: string[]) => { await hostExec(host, ['ip', ...argv], { check: true }); };
const missing = (c: Condition) => c.status === 'False';
const present = (c: Condition) => c.status === 'True';

describe('a Node pinning an interface the host lacks', () => {
  it('is reported InterfaceOnHost False while the link is not there, True while it is; Ready stays True', async () => {
    expect(await nodeCondition('InterfaceOnHost')).toBeUndefined(); // nothing pinned: nothing said
    const capabilities = async () => ((await lab.store.get('Node', 'host-1')) as Node | undefined)?.status?.capabilities as Record<string, boolean> | undefined;
    const kernelCan = await eventually(capabilities, 'the capabilities reported');
    expect(kernelCan.macvlan).toBe(true);
    await lab.store.applyAll([obj('Node', 'host-1', { interface: 'xlan0' })]);
    const typo = await until(missing, 'the typo reported');
    // what the kernel can do is still probed on the detected interface, not read false off a link that is not there
    expect(await capabilities()).toEqual(kernelCan);
    expect(typo).toMatchObject({
      reason: 'NotOnHost',
      message: 'spec.interface xlan0 is not a link of this host: a MacvlanNet with no parent of its own for this node has no parent here (ParentMissing); fix spec.interface, or remove it to use the detected eth0',
    });
    expect(await nodeCondition('Ready')).toMatchObject({ status: 'True', reason: 'AgentReady' });

    await ip('link', 'add', 'xlan0', 'type', 'veth', 'peer', 'name', 'xlan1');
    expect(await until(present, 'xlan0 made')).toMatchObject({ reason: 'OnHost', message: 'xlan0, the Node\'s spec.interface, is a link of this host' });
    await ip('link', 'set', 'xlan0', 'name', 'xlan9');
    await until(missing, 'xlan0 renamed away');
    await ip('link', 'set', 'xlan9', 'name', 'xlan0');
    await until(present, 'xlan0 back under its name');
    await ip('link', 'del', 'xlan0');
    expect(await until(missing, 'xlan0 deleted')).toMatchObject({ reason: 'NotOnHost' });
    expect(await nodeCondition('Ready')).toMatchObject({ status: 'True', reason: 'AgentReady' });

    // unpinned: the condition goes
    await lab.store.applyAll([obj('Node', 'host-1', {})]);
    await eventually(async () => (await nodeCondition('InterfaceOnHost')) === undefined || undefined, 'the condition gone once nothing is pinned', 20_000);
  });
});
