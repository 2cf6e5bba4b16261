// A MacvlanNet's host shim renamed by hand (`ip link set xs... name shimx`). Seen in a lab: the
// agent made a new shim under its name and left the renamed one up with the same /32 (two links
// of the host answering ARP for the shim address on the segment), and it stayed after the
// MacvlanNet was deleted: a link of xnet's, marked as its shim, that nothing removed. It goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shimName } from '../../pkg/agent/planner/names.js';
import { hostExec } from '../../pkg/lab/index.js';
import { breakAndCheck, breakVerified } from '../harness/heal.js';
import { agentLab, eventually, oneHostMacvlanNet, sh, type AgentLab } from './agent-harness.js';

let lab: AgentLab;
const h1 = () => lab.hosts[0];
const SHIM = shimName('mv231');
const ADDRESS = '192.168.231.250';

/** The host links holding the shim address, and those carrying the shim's mark. */
const holders = async () => (await sh(h1(), ['ip', '-o', '-4', 'addr', 'show'])).split('\n').filter((l) => l.includes(` ${ADDRESS}/32 `)).map((l) => l.split(/\s+/)[1]);
const marked = async () => (await sh(h1(), ['ip', '-d', '-o', 'link', 'show'])).split('\n').filter((l) => /alias xnet:shim:mv231\b/.test(l)).map((l) => l.split(':')[1].trim().split('@')[0]);

beforeAll(async () => {
  lab = await agentLab(1);
  await oneHostMacvlanNet(lab.store, 'mv231', 231, ADDRESS);
  await lab.startAgent(h1());
  // no controller here to aggregate Ready: the shim with its address is what the agent makes
  await eventually(async () => ((await holders()).length ? true : undefined), 'the shim made', 60_000);
}, 240_000);

afterAll(async () => { await lab?.down(); }, 120_000);

describe('agent: a MacvlanNet shim renamed by hand', () => {
  it('leaves one shim, under its own name, holding the shim address; none once the MacvlanNet is deleted', async () => {
    expect(await holders()).toEqual([SHIM]);
    // proven by its ifindex gone from the name: the agent may make a new shim under it at once
    const [{ ifindex }] = JSON.parse(await sh(h1(), ['ip', '-j', 'link', 'show', SHIM])) as Array<{ ifindex: number }>;
    await breakAndCheck('shim renamed', {
      whole: async () => JSON.stringify(await holders()) === JSON.stringify([SHIM]),
      breakIt: () => breakVerified((argv) => hostExec(h1(), argv),
        ['sh', '-c', `ip link set ${SHIM} down && ip link set ${SHIM} name shimx && ip link set shimx up`], { argv: ['ip', '-o', 'link', 'show'], gone: `\n${ifindex}: ${SHIM}@` }),
    });
    expect(await marked()).toEqual([SHIM]);
    await lab.store.delete('MacvlanNet', 'mv231');
    await eventually(async () => ((await marked()).length === 0 ? true : undefined), 'no link marked as the shim', 30_000);
    expect(await holders()).toEqual([]);
  }, 120_000);
});
