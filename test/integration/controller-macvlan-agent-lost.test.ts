// A node whose agent ran and died while no controller was running: its report about itself
// (lease-bound) is gone, its reports on objects stay. The controller that starts next never
// saw it beat, but the reports say the agent ran: the Node is NodeLost (not AgentNotStarted,
// "no agent has reported"), and its MacvlanNet part is not ready, as for a loss a controller
// saw (controller-macvlan-nic-first.test.ts), instead of the ready its last report said.
import { describe, expect, it } from 'vitest';
import { eventually, statusOf } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';
import { AGENT_LOST } from '../../pkg/controller/macvlan-agent.js';

const fx = useMacvlanParts();
const nodeReady = async (node: string) => statusOf(await fx.store.get('Node', node)).conditions?.find((c) => c.type === 'Ready');

describe('a node whose agent ran and died while no controller ran', () => {
  it('is NodeLost and its MacvlanNet part not ready, while a node that never ran is AgentNotStarted', async () => {
    await fx.segment('late', { subnet: '198.19.70.0/24', ipRange: '198.19.70.16/28', dockerIPAM: 'xnet', hostShim: true }, 'late', ['al-1', 'al-2', 'al-3']);
    await eventually(async () => (await fx.parts('late')).length === 3, 'a part per node');
    await fx.stopController();
    // al-1 and al-2 start, report on the MacvlanNet; al-2 stops and its lease ends, all unseen
    for (const n of ['al-1', 'al-2']) {
      await fx.store.writeStatus('Node', n, { node: n }, { lastHeartbeatTime: new Date().toISOString() });
      await fx.report('late', n, {});
    }
    await fx.store.deleteStatus('Node', 'al-2', { node: 'al-2' });
    expect(await fx.store.nodeReported('al-2')).toBe(false);
    await fx.startController();
    await eventually(async () => (await fx.partOf('late', 'al-1'))?.ready === true, 'al-1 ready');
    const lost = await eventually(async () => { const c = await nodeReady('al-2'); return c?.reason === 'NodeLost' && c; }, 'al-2 NodeLost');
    expect(lost.status).toBe('False');
    // the part follows the Node's status in the MacvlanNet's next round (not the same write)
    expect(await fx.partSays('late', 'al-2', AGENT_LOST)).toMatchObject({ ready: false });
    // al-3's agent never ran: not lost, only not started (its status may come after al-2's)
    const al3 = await eventually(async () => nodeReady('al-3'), 'al-3 has a Ready condition');
    expect(al3).toMatchObject({ status: 'Unknown', reason: 'AgentNotStarted' });
    expect(await fx.ready('late')).toMatchObject({ status: 'False', reason: 'NodesNotReady' });
  }, 60_000);
});
