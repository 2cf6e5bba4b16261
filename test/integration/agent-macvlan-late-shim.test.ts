// Issue 10, late joiners, with real agents and dockerds: a small MacvlanNet with host shims
// (dockerIPAM xnet) applied before any agent runs; host-1's agent starts first and takes what
// is free at hand, then host-2's and host-3's start. Each gets a shim (host-1's agent gives back
// above the share it is asked to keep) and the MacvlanNet is Ready: before the fix in
// controller/macvlan-fair.ts, the late nodes' refills took what host-1 gave back for their
// shims (it cools down for a shim, not for a refill) and one node stayed without a shim, the
// MacvlanNet Ready=False for good (controller-macvlan-late-shim.test.ts, without agents).
import { afterAll, describe, expect, it } from 'vitest';
import { Controller } from '../../pkg/controller/controller.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { createLogger } from '../../pkg/log.js';
import { agentLab, downWithController, eventually, obj, type AgentLab } from './agent-harness.js';

const NET = 'lateshim';
/** a cooldown the test outwaits: with the default 30 s it would only be slower */
const COOLDOWN_MS = 3000;
let lab: AgentLab | undefined;
let controller: Controller | undefined;
afterAll(async () => { await downWithController(lab, controller); }, 180_000);

type Part = { name: string; shimAddress?: string; addresses?: string[] };
const statusOf = async (l: AgentLab) => ((await l.store.get('MacvlanNet', NET))?.status ?? {}) as { nodes?: Part[]; conditions?: Array<{ type: string; status: string; message?: string }> };

describe('hosts whose agents start after another\'s took a small MacvlanNet\'s addresses', () => {
  it('each gets its shim, and the MacvlanNet is Ready', async () => {
    lab = await agentLab(3, { nodes: 'controller' });
    const log = createLogger('controller');
    log.level = process.env.XNET_LOG_LEVEL ?? 'warn';
    controller = new Controller({ client: lab.controllerClient(), log, leaseTtlSeconds: 5, addressCooldownMs: COOLDOWN_MS });
    await controller.start();
    const l = lab;
    await l.store.applyAll([obj('MacvlanNet', NET, { subnet: '192.168.225.0/24', gateway: '192.168.225.1', ipRange: '192.168.225.8/29', hostShim: true })]);
    await l.startAgent(l.hosts[0]);
    await eventually(async () => (await statusOf(l)).nodes?.find((p) => p.name === 'host-1')?.addresses?.length === 7, 'host-1 holds the 7 addresses its shim leaves', 30_000);
    for (const h of l.hosts.slice(1)) await l.startAgent(h);
    const ready = await eventually(async () => {
      const s = await statusOf(l);
      return s.nodes?.length === 3 && s.nodes.every((p) => p.shimAddress) && s.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? s : undefined;
    }, `${NET} Ready with a shim on every host`, 10 * COOLDOWN_MS);
    const held = ready.nodes!.flatMap((p) => [p.shimAddress!, ...p.addresses ?? []]);
    expect(new Set(held).size).toBe(held.length);
    const check = await ipamCheck(l.client, '/xnet');
    expect(check.problems, check.text).toBe(0);
  }, 300_000);
});
