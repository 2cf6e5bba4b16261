// A Node deleted and applied again under the same name. Its former agent's reports on objects
// are not lease-bound and outlive the delete (only the reports about the Node go with it): they
// say nothing of an agent for the Node made again. Counted as its agent's, the new Node said
// NodeLost ("it ran and stopped") with no agent ever run for it, and its MacvlanNet part the
// former agent's word. Only a report written since the Node was made is its agent's
// (controller/node-incarnation.ts).
import { describe, expect, it } from 'vitest';
import { beat, eventually, statusOf } from './controller-helpers.js';
import { useMacvlanParts } from './macvlan-parts.js';
import { AGENT_LOST } from '../../pkg/controller/macvlan-agent.js';

const fx = useMacvlanParts();
const WAITING = 'waiting for the node\'s agent';

/** The Node's Ready once its reason is `reason`; the reason it has meanwhile is the failure's. */
const readyBecomes = (node: string, reason: string) => eventually(async () => {
  const c = statusOf(await fx.store.get('Node', node)).conditions?.find((x) => x.type === 'Ready');
  if (c?.reason !== reason) throw new Error(`Ready is ${c ? `${c.status} ${c.reason}` : 'not there'}`);
  return c;
}, `Node ${node} Ready reason ${reason}`);

const partSays = (node: string, message: string) => fx.partSays('again', node, message);

describe('a Node made again under the name of one whose agent reported', () => {
  it('is AgentNotStarted, not NodeLost, until an agent of its own reports; then lost when that one stops', async () => {
    await fx.segment('again', { subnet: '198.19.71.0/24', ipRange: '198.19.71.16/28', dockerIPAM: 'xnet', hostShim: true }, 'again', ['nr-1']);
    // its agent beat, reported on the MacvlanNet, and stopped: its lease-bound report went
    await fx.report('again', 'nr-1', {});
    await eventually(async () => (await fx.partOf('again', 'nr-1'))?.ready === true, 'nr-1 ready');
    await fx.store.deleteStatus('Node', 'nr-1', { node: 'nr-1' });
    await readyBecomes('nr-1', 'NodeLost');
    // the admin deletes the Node and applies it again; no agent runs there
    expect(await fx.store.delete('Node', 'nr-1')).toBe(true);
    const reportKey = fx.store.keys.status('MacvlanNet', 'again', { node: 'nr-1' });
    expect((await fx.etcd.client().get(reportKey).string()) ?? undefined, 'the former agent\'s report stays').toBeDefined();
    await fx.join('again', ['nr-1']);
    const c = await readyBecomes('nr-1', 'AgentNotStarted');
    expect(c.status).toBe('Unknown');
    expect((await partSays('nr-1', WAITING)).ready).toBe(false);
    // an agent of the new Node beats, reports, and stops: that one ran, and the Node is lost
    await beat(fx.store, 'nr-1');
    await fx.report('again', 'nr-1', {});
    await eventually(async () => (await fx.partOf('again', 'nr-1'))?.ready === true, 'nr-1 ready again');
    await fx.store.deleteStatus('Node', 'nr-1', { node: 'nr-1' });
    expect((await readyBecomes('nr-1', 'NodeLost')).status).toBe('False');
    await partSays('nr-1', AGENT_LOST);
  }, 90_000);

  it('deleted under a running agent and made again: the agent\'s reports from before stay its own', async () => {
    await fx.join('again', ['nr-2']);
    await fx.report('again', 'nr-2', {});
    await eventually(async () => (await fx.partOf('again', 'nr-2'))?.ready === true, 'nr-2 ready');
    // the delete takes the report about the Node; applied again, the agent writes that report
    // again at its next beat, and its report on the MacvlanNet (unchanged) not at all
    expect(await fx.store.delete('Node', 'nr-2')).toBe(true);
    await fx.join('again', ['nr-2']);
    await beat(fx.store, 'nr-2');
    expect((await partSays('nr-2', 'ready')).ready).toBe(true);
    await eventually(async () => statusOf(await fx.store.get('Node', 'nr-2')).lastHeartbeatTime !== undefined, 'nr-2 beating');
  }, 90_000);
});
