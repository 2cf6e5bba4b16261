// An agent reports on objects only once its report about itself is in etcd. The controller reads
// a node's reports on objects with none about itself as an agent that ran and stopped (NodeLost,
// its MacvlanNet parts not ready: macvlan-agent.ts agentLost). An agent whose first heartbeat
// failed went on to reconcile and report on its MacvlanNet, and a controller that judged its Node
// then called the live, starting agent lost. The agent's status reporter and
// its report about itself, as the agent wires them (agent.ts: SelfReportGate), on a real etcd
// with the real controller.
import { describe, expect, it } from 'vitest';
import { eventually, nodeHeartbeat, obj, statusOf } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';
import { NodeStatusReporter } from '../../pkg/agent/context.js';
import { SelfReport } from '../../pkg/agent/node.js';
import { SelfReportGate } from '../../pkg/agent/self-report-gate.js';
import type { MacvlanNet } from '../../pkg/api/index.js';

const fx = useMacvlanParts();

const partSays = (node: string, message: string) => fx.partSays('first', node, message);

describe('an agent whose first heartbeat has not succeeded', () => {
  it('writes no report on its MacvlanNet, so the controller does not call it lost; it does once it has beaten', async () => {
    await fx.segment('first', { subnet: '198.19.72.0/24', ipRange: '198.19.72.16/28', dockerIPAM: 'xnet', hostShim: true }, 'first', ['sb-1']);
    await partSays('sb-1', 'waiting for the node\'s agent');
    const gate = new SelfReportGate('sb-1');
    const status = new NodeStatusReporter(fx.store, 'sb-1', undefined, undefined, undefined, gate);
    const mvn = await fx.store.get('MacvlanNet', 'first') as MacvlanNet;
    const write = () => status.write('MacvlanNet', mvn, { name: 'sb-1', ready: true, message: 'ready' }, { status: 'True', reason: 'Ready', message: 'ready' });
    // its first heartbeat failed: the reconcile that reports on the MacvlanNet runs all the same
    const refused = await write().then(() => undefined, (e: Error) => e);
    // the controller judges the Node again (the admin pins another interface): not started, not lost
    await fx.store.applyAll([obj('Node', 'sb-1', { interface: 'eth1' }, { first: 'yes' })]);
    const generation = (await fx.store.get('Node', 'sb-1'))?.metadata.generation;
    expect(generation).toBe(2);
    const judged = await eventually(async () => {
      const st = statusOf(await fx.store.get('Node', 'sb-1'));
      return st.observedGeneration === generation && st;
    }, 'the Node\'s status of its new generation');
    expect(judged.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'AgentNotStarted' });
    await partSays('sb-1', 'waiting for the node\'s agent');
    const reportKey = fx.store.keys.status('MacvlanNet', 'first', { node: 'sb-1' });
    expect(await fx.etcd.client().get(reportKey).string()).toBeNull();
    expect(refused?.message).toBe('MacvlanNet first: no report on it before node sb-1\'s report about itself is in etcd (its first heartbeat has not succeeded yet)');
    // the next heartbeat writes the report about itself: the report on the MacvlanNet follows
    const self = new SelfReport(fx.store, 'sb-1', 10, () => undefined, () => gate.selfReported());
    try {
      const { lastHeartbeatTime: _, ...report } = nodeHeartbeat('10.0.72.1');
      expect(await self.sync(report)).toBe(true);
      await write();
      expect(await fx.etcd.client().get(reportKey).string()).not.toBeNull();
      expect((await partSays('sb-1', 'ready')).ready).toBe(true);
    } finally {
      self.release();
    }
  }, 90_000);
});
