// The search for a macvlan NIC's old link that holds its MAC (pkg/agent/stale-nic.ts), on real
// namespaces of this test's own: docs/agent.md says a link there is deleted only when it is a
// macvlan with the NIC's mark and declared MAC on the host's parent, and never in the
// container's current namespace nor the host's. Every name carries a random tag, so the search
// (which reads every namespace on the machine) can match nothing of anyone else's.
// A host here is a named namespace, as in a lab, and the agent's search names it (dataplane.ts).
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleNicLinks } from '../../pkg/agent/stale-nic.js';
import { staleNicSpace } from './stale-nic-space.js';

const { ns, path, NIC, MARK, ip, names, ifindex } = staleNicSpace('sn', ['host', 'old', 'cur', 'host2', 'old2']);
const MAC = '02:42:0a:4d:01:54';

/** A macvlan on the host's `parent`, marked and with `mac`, moved into namespace `into` as `name`. */
async function macvlanIn(into: string, name: string, parent: string, mark: string, mac: string, host = ns.host): Promise<void> {
  await ip(host, ['link', 'add', name, 'link', parent, 'type', 'macvlan', 'mode', 'bridge']);
  await ip(host, ['link', 'set', name, 'address', mac, 'alias', mark]);
  await ip(host, ['link', 'set', name, 'netns', into]);
}
/** The search as the agent of host `ns.host` (a named namespace, as in a lab) runs it. */
const search = () => removeStaleNicLinks(NIC, MAC, p0, [path(ns.cur), path(ns.host)], ns.host);

let p0 = 0;

beforeAll(async () => {
  for (const n of Object.values(ns)) await execa('ip', ['netns', 'add', n], { timeout: 10_000 });
  // parents: veths (this kernel has no dummy links)
  for (const d of ['p0', 'p1']) await ip(ns.host, ['link', 'add', d, 'type', 'veth', 'peer', 'name', `${d}peer`]);
  p0 = await ifindex(ns.host, 'p0');
  // another simulated host (another lab on this machine) with a NIC of the same name and MAC,
  // whose parent has the same ifindex in its own namespace: made the same way, it usually has
  await ip(ns.host2, ['link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p0peer']);
  if (await ifindex(ns.host2, 'p0') !== p0) throw new Error(`the two hosts' p0 have different ifindexes (${p0}): the case is not made`);
  await macvlanIn(ns.old2, 'mv0', 'p0', MARK, MAC, ns.host2);
  // the NIC's link, in the container's current namespace for now
  await macvlanIn(ns.cur, 'mv0', 'p0', MARK, MAC);
  // not the NIC's old link: another MAC; another parent; another NIC's mark; no mark
  await macvlanIn(ns.old, 'othermac', 'p0', MARK, '02:42:0a:4d:01:55');
  await macvlanIn(ns.old, 'otherpar', 'p1', MARK, MAC);
  await macvlanIn(ns.old, 'othernic', 'p1', `${MARK}x`, '02:42:0a:4d:01:56');
  await macvlanIn(ns.old, 'nomark', 'p1', '', '02:42:0a:4d:01:57');
}, 60_000);

afterAll(async () => {
  for (const n of Object.values(ns)) await execa('ip', ['netns', 'del', n], { reject: false, timeout: 10_000 });
});

describe('the search for a macvlan NIC\'s stale link', () => {
  it('deletes nothing in the container\'s current namespace', async () => {
    expect(await names(ns.cur)).toContain('mv0');
    const gone = await search();
    expect(gone).toEqual([]);
    expect(await names(ns.cur)).toContain('mv0');
    expect(await names(ns.old)).toEqual(['lo', 'nomark', 'othermac', 'othernic', 'otherpar']);
  }, 120_000);

  it('deletes the NIC\'s link in an old namespace, and nothing else there', async () => {
    // the container restarted: its old namespace keeps the NIC's link (something holds it)
    await ip(ns.cur, ['link', 'set', 'mv0', 'netns', ns.old]);
    // an agent on its own namespace (no name) finds its parent in a named one: in doubt, kept
    expect(await removeStaleNicLinks(NIC, MAC, p0, [path(ns.cur), path(ns.host)])).toEqual([]);
    const gone = await search();
    expect(gone.map((l) => l.name)).toEqual(['mv0']);
    expect(await names(ns.old)).toEqual(['lo', 'nomark', 'othermac', 'othernic', 'otherpar']);
    expect(await names(ns.host)).toEqual(['lo', 'p0', 'p0peer', 'p1', 'p1peer']);
    // the other host's NIC link: same mark, MAC and parent ifindex, another parent
    expect(await names(ns.old2)).toEqual(['lo', 'mv0']);
  }, 120_000);

  it('leaves a macvlan with the MAC on the parent alone when it carries another NIC\'s mark, or none', async () => {
    // the MAC is free on p0 again: another link may take it
    await macvlanIn(ns.old, 'samemac', 'p0', `${MARK}x`, MAC);
    expect(await search()).toEqual([]);
    await ip(ns.old, ['link', 'set', 'samemac', 'alias', '']);
    expect(await search()).toEqual([]);
    expect(await names(ns.old)).toContain('samemac');
  }, 120_000);
});
