// The search for a macvlan NIC's stale link (pkg/agent/stale-nic.ts) finds a namespace through a
// file (an nsfs mount, /proc/<pid>/ns/net), reads its links, and deletes seconds later. By then
// the file may name another namespace (the PID reused by a process of the host, the mount
// replaced), or the link of that name may be another one. The delete must go to the namespace
// it read, and only to the link it found there. Real namespaces of this test's own (as
// stale-nic-search.test.ts); the only thing added is a step run just before the delete's
// `nsenter`, which changes what the file or the link is, as a reused PID would.
import { execa } from 'execa';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { removeStaleNicLinks } from '../../pkg/agent/stale-nic.js';
import { staleNicSpace } from './stale-nic-space.js';

const hook = vi.hoisted(() => ({ beforeDelete: undefined as undefined | (() => Promise<void>) }));
vi.mock('../../pkg/netlink/exec.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../pkg/netlink/exec.js')>();
  const run: typeof m.run = async (cmd, args, input, opts) => {
    const step = hook.beforeDelete;
    if (cmd === 'nsenter' && step && args.join(' ').includes('link del')) {
      hook.beforeDelete = undefined;
      await step();
    }
    return m.run(cmd, args, input, opts);
  };
  return { ...m, run };
});

const { ns, path, NIC, MARK, ip, names, ifindex } = staleNicSpace('sp', ['host', 'old', 'cur']);
const MAC = '02:42:0a:4d:02:54';
const search = async () => removeStaleNicLinks(NIC, MAC, await ifindex(ns.host, 'p0'), [path(ns.cur), path(ns.host)], ns.host);

const netns = (verb: 'add' | 'del', n: string) => execa('ip', ['netns', verb, n], { timeout: 10_000, reject: verb === 'add' });

/** host with parent p0; the NIC's old link mv0 (marked, its MAC, on p0) in the container's old namespace. */
beforeEach(async () => {
  for (const n of Object.values(ns)) await netns('del', n);
  for (const n of Object.values(ns)) await netns('add', n);
  await ip(ns.host, ['link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p0peer']);
  await ip(ns.host, ['link', 'add', 'mv0', 'link', 'p0', 'type', 'macvlan', 'mode', 'bridge']);
  await ip(ns.host, ['link', 'set', 'mv0', 'address', MAC, 'alias', MARK]);
  await ip(ns.host, ['link', 'set', 'mv0', 'netns', ns.old]);
  expect(await names(ns.old)).toEqual(['lo', 'mv0']);
}, 60_000);

afterAll(async () => {
  hook.beforeDelete = undefined;
  for (const n of Object.values(ns)) await netns('del', n);
});

describe('the stale NIC link search, when things change between its read and its delete', () => {
  it('deletes in the namespace it read, not in the one its file names by then', async () => {
    // the file now names another namespace, which has a link of the same name (not the NIC's)
    hook.beforeDelete = async () => {
      await netns('del', ns.old);
      await netns('add', ns.old);
      await ip(ns.old, ['link', 'add', 'mv0', 'type', 'veth', 'peer', 'name', 'mv0peer']);
    };
    const gone = await search();
    expect(hook.beforeDelete, 'the delete was reached').toBeUndefined();
    expect(await names(ns.old)).toEqual(['lo', 'mv0', 'mv0peer']);
    // found through the mount (/var/run is /run here), deleted in the namespace it was then
    expect(gone).toEqual([{ netns: expect.stringMatching(new RegExp(`/netns/${ns.old}$`)), name: 'mv0', mac: MAC }]);
  }, 120_000);

  it('deletes no link that is no longer the one it found (the mark gone by then)', async () => {
    hook.beforeDelete = async () => { await ip(ns.old, ['link', 'set', 'mv0', 'alias', '']); };
    const gone = await search();
    expect(hook.beforeDelete, 'the delete was reached').toBeUndefined();
    expect(await names(ns.old)).toEqual(['lo', 'mv0']);
    expect(gone).toEqual([]);
  }, 120_000);
});
