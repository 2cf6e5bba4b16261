// xctl delete of a network ContainerNics use, against a real etcd, in-process through runXctl:
// refused as a conflict naming the NICs, nothing written, unless they go in the same command
// or --force is given. (No controller runs: what is asserted is what xctl writes.) And the
// reads of many objects, by delete, delete --wait and wait --for delete: a few requests, not one per object.
import { describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';
import { Keys } from '../../pkg/store/keys.js';
import { manyApplied, xctlCounted } from '../harness/xctl-requests.js';
import { eventually } from './helpers.js';

const lab = xctlInProcess('xctl-delete-in-use');
const xctl = (args: string[], stdin = '') => lab.xctl(args, { stdin });

const V = 'apiVersion: xnet.io/v1alpha1';
const cnDoc = (name: string, cidr: string) => `${V}\nkind: ClusterNetwork\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n  hostPrefix: 24\n  dockerNetwork: d-${name}\n`;
const mvnDoc = (name: string) => `${V}\nkind: MacvlanNet\nmetadata:\n  name: ${name}\nspec:\n  subnet: 198.19.7.0/24\n`;
const nicDoc = (name: string, network: string) =>
  `${V}\nkind: ContainerNic\nmetadata:\n  name: ${name}\nspec:\n  node: host-1\n  container: c-${name}\n  ifName: eth1\n  network: {${network}}\n`;
/** xctl's whole answer to the delete of one object `nics` still use: exit 3, nothing on stdout */
const refused = (what: string, nics: string[]) => ({
  code: 3, out: '',
  err: `error: conflict: ${what} is in use by ${nics.length} ContainerNics (${nics.join(', ')}): deleting it takes their addresses at once and their ` +
    'interfaces out of their containers; delete them first or in the same command, or pass --force\nnothing was deleted\n',
});
const apply = async (...docs: string[]) => { const r = await xctl(['apply', '-f', '-'], docs.join('---\n')); expect(r.code, r.err).toBe(0); };

describe('xctl delete of a network in use', () => {
  it('is refused (exit 3) naming the NICs that use it, not those being deleted or on other networks; nothing is written', async () => {
    await apply(cnDoc('inuse', '10.120.0.0/16'), cnDoc('other', '10.121.0.0/16'),
      nicDoc('b', 'clusterNetwork: inuse'), nicDoc('a', 'clusterNetwork: inuse'), nicDoc('c', 'clusterNetwork: inuse'), nicDoc('d', 'clusterNetwork: other'));
    // c is being deleted already (no controller runs, so its finalizer keeps it marked)
    expect((await xctl(['delete', 'nic', 'c'])).code).toBe(0);
    expect((await lab.store.get('ContainerNic', 'c'))?.metadata.deletionTimestamp).toBeTruthy();
    const rev = await lab.store.revision();
    const r = await xctl(['delete', 'cn', 'inuse']);
    expect(r).toEqual(refused('clusternetwork/inuse', ['a', 'b']));
    // a manifest naming it is held to the same rule, and the other objects of the request wait with it
    const f = lab.file('inuse.yaml', `${cnDoc('other', '10.121.0.0/16')}---\n${cnDoc('inuse', '10.120.0.0/16')}`);
    const byFile = await xctl(['delete', '-f', f]);
    expect(byFile.code).toBe(3);
    expect(byFile.err).toContain('error: conflict: clusternetwork/other is in use by 1 ContainerNic (d); clusternetwork/inuse is in use by 2 ContainerNics (a, b): deleting them takes');
    expect(await lab.store.revision()).toBe(rev);
    expect(await lab.store.get('ClusterNetwork', 'inuse')).toBeDefined();
  });

  it('goes when its NICs are deleted in the same command', async () => {
    const r = await xctl(['delete', 'cn/inuse', 'nic/a', 'nic/b']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe('clusternetwork/inuse deleted\ncontainernic/a deleted\ncontainernic/b deleted\n');
    expect(await lab.store.get('ClusterNetwork', 'inuse')).toBeUndefined();
  });

  it('goes with --force, with a warning that names what loses its address', async () => {
    await apply(mvnDoc('lan'), ...['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'].map((n) => nicDoc(n, 'macvlanNet: lan')));
    const refused = await xctl(['delete', 'mvn', 'lan']);
    expect(refused.code).toBe(3);
    expect(refused.err).toContain('macvlannet/lan is in use by 7 ContainerNics (n1, n2, n3, n4, n5 and 2 more)');
    const r = await xctl(['delete', 'mvn', 'lan', '--force']);
    expect(r).toEqual({
      code: 0, out: 'macvlannet/lan deleted\n',
      err: 'warning: macvlannet/lan is in use by 7 ContainerNics (n1, n2, n3, n4, n5 and 2 more): they lose their addresses and are taken out of their containers\n',
    });
    // marked: its own finalizer waits for the nodes' Docker networks (no controller here)
    expect((await lab.store.get('MacvlanNet', 'lan'))?.metadata.deletionTimestamp).toBeTruthy();
    // deleting it again is no new harm: nothing to refuse
    expect(await xctl(['delete', 'mvn', 'lan'])).toMatchObject({ code: 0, err: '' });
  });

  it('is no conflict for a network that does not exist, whatever NICs name it', async () => {
    await apply(nicDoc('ghost-eth1', 'clusterNetwork: ghost'));
    expect(await xctl(['delete', 'cn', 'ghost'])).toEqual({ code: 4, out: '', err: 'error: ClusterNetwork "ghost" not found\n' });
  });
});

// Found in the lab: `xctl delete hs default-host-1` of seed000 went through silently; the
// controller made host-1 a HostSubnet anew on 10.76.3.0/24 (the old block stays while its
// Docker network does), and both pinned NICs of host-1 turned OutOfRange.
describe('xctl delete of a HostSubnet in use', () => {
  const hsDoc = (name: string, node: string) => `${V}\nkind: HostSubnet\nmetadata:\n  name: ${name}\nspec:\n  node: ${node}\n  clusterNetwork: hsnet\n`;

  it('is refused (exit 3) naming the NICs of its node on its ClusterNetwork; goes with them or with --force', async () => {
    await apply(cnDoc('hsnet', '10.122.0.0/16'), hsDoc('hsnet-host-1', 'host-1'), hsDoc('hsnet-host-2', 'host-2'),
      nicDoc('h1', 'clusterNetwork: hsnet'), nicDoc('h2', 'clusterNetwork: hsnet'), nicDoc('elsewhere', 'clusterNetwork: other'));
    const rev = await lab.store.revision();
    const r = await xctl(['delete', 'hs', 'hsnet-host-1']);
    expect(r).toEqual(refused('hostsubnet/hsnet-host-1', ['h1', 'h2']));
    expect(await lab.store.revision()).toBe(rev);
    // another node's HostSubnet is no one's to hold
    expect(await xctl(['delete', 'hs', 'hsnet-host-2'])).toMatchObject({ code: 0, out: 'hostsubnet/hsnet-host-2 deleted\n' });
    const forced = await xctl(['delete', 'hs', 'hsnet-host-1', '--force']);
    expect(forced).toMatchObject({ code: 0, out: 'hostsubnet/hsnet-host-1 deleted\n' });
    expect(forced.err).toContain('warning: hostsubnet/hsnet-host-1 is in use by 2 ContainerNics (h1, h2)');
    // marked: its own finalizer has the controller delete it, keeping its block while host-1's network holds it (no controller here)
    expect((await lab.store.get('HostSubnet', 'hsnet-host-1'))?.metadata.deletionTimestamp).toBeTruthy();
  });
});

// Found in a new user's trial: `xctl delete -f seed000.yaml` (which holds both Nodes) printed
// `node/host-1 deleted` with no word; the controller deleted their HostSubnets and freed their
// MacvlanNet parts, so every NIC on those nodes lost its address (also ones of networks the
// manifest does not name), and when the running agents re-registered they were renumbered.
describe('xctl delete of a Node its ContainerNics are on', () => {
  const nodeDoc = (name: string) => `${V}\nkind: Node\nmetadata:\n  name: ${name}\nspec: {}\n`;
  const nicOn = (name: string, node: string, network: string) => nicDoc(name, network).replace('node: host-1', `node: ${node}`);
  /** like seed000: a ClusterNetwork, two Nodes, a HostSubnet each, a NIC each */
  const seed = [cnDoc('ndnet', '10.123.0.0/16'), nodeDoc('nd-1'), nodeDoc('nd-2'),
    `${V}\nkind: HostSubnet\nmetadata:\n  name: ndnet-nd-1\nspec:\n  node: nd-1\n  clusterNetwork: ndnet\n`,
    nicOn('nd-1-eth1', 'nd-1', 'clusterNetwork: ndnet'), nicOn('nd-2-eth1', 'nd-2', 'clusterNetwork: ndnet')].join('---\n');

  it('is refused (exit 3) naming every NIC on it, on any network, not those being deleted; nothing is written', async () => {
    await apply(seed, nicOn('nd-1-lan', 'nd-1', 'macvlanNet: other-lan'), nicOn('nd-1-going', 'nd-1', 'clusterNetwork: ndnet'));
    expect((await xctl(['delete', 'nic', 'nd-1-going'])).code).toBe(0);
    const rev = await lab.store.revision();
    expect(await xctl(['delete', 'node', 'nd-1'])).toEqual(refused('node/nd-1', ['nd-1-eth1', 'nd-1-lan']));
    // the manifest that made them: its own NICs go with it, the one it does not name holds nd-1
    const f = lab.file('seed-nd.yaml', seed);
    const byFile = await xctl(['delete', '-f', f]);
    expect(byFile).toMatchObject({ code: 3, out: '' });
    expect(byFile.err).toBe('error: conflict: node/nd-1 is in use by 1 ContainerNic (nd-1-lan): deleting it takes their addresses at once and their ' +
      'interfaces out of their containers; delete them first or in the same command, or pass --force\nnothing was deleted\n');
    expect(await lab.store.revision()).toBe(rev);
    expect(await lab.store.get('Node', 'nd-1')).toBeDefined();
  });

  it('goes with the manifest that holds the Nodes and the NICs on them, in one command', async () => {
    expect((await xctl(['delete', 'nic', 'nd-1-lan'])).code).toBe(0);
    const r = await xctl(['delete', '-f', lab.file('seed-nd.yaml', seed)]);
    expect(r).toEqual({
      code: 0, err: '',
      out: ['clusternetwork/ndnet', 'node/nd-1', 'node/nd-2', 'hostsubnet/ndnet-nd-1', 'containernic/nd-1-eth1', 'containernic/nd-2-eth1'].map((o) => `${o} deleted\n`).join(''),
    });
    expect(await lab.store.get('Node', 'nd-1')).toBeUndefined();
    expect(await lab.store.get('Node', 'nd-2')).toBeUndefined();
  });

  it('goes with --force, with a warning that names what loses its address', async () => {
    await apply(nodeDoc('nd-3'), nicOn('nd-3-eth1', 'nd-3', 'clusterNetwork: ndnet'), nicOn('nd-3-eth2', 'nd-3', 'macvlanNet: lan'));
    const r = await xctl(['delete', 'node', 'nd-3', '--force']);
    expect(r).toEqual({
      code: 0, out: 'node/nd-3 deleted\n',
      err: 'warning: node/nd-3 is in use by 2 ContainerNics (nd-3-eth1, nd-3-eth2): they lose their addresses and are taken out of their containers\n',
    });
    expect(await lab.store.get('Node', 'nd-3')).toBeUndefined();
    expect(await lab.store.get('ContainerNic', 'nd-3-eth1')).toBeDefined();
  });

  it('a Node no NIC is on goes without a word; one that does not exist is not found, whatever NICs name it', async () => {
    await apply(nodeDoc('nd-4'), nicOn('nd-5-eth1', 'nd-5', 'clusterNetwork: ndnet'));
    expect(await xctl(['delete', 'node', 'nd-4'])).toEqual({ code: 0, out: 'node/nd-4 deleted\n', err: '' });
    expect(await xctl(['delete', 'node', 'nd-5'])).toEqual({ code: 4, out: '', err: 'error: Node "nd-5" not found\n' });
  });
});

describe('xctl delete --dry-run', () => {
  it('says what it would delete, with the same refusals and exit codes, and writes nothing', async () => {
    await apply(cnDoc('dry', '10.126.0.0/16'), nicDoc('dry-1', 'clusterNetwork: dry'), nicDoc('dry-2', 'clusterNetwork: dry'));
    const rev = await lab.store.revision();
    expect(await xctl(['delete', 'nic', 'dry-1', '--dry-run'])).toEqual({ code: 0, out: 'containernic/dry-1 deleted (dry run)\n', err: '' });
    expect(await xctl(['delete', 'cn', 'dry', '--dry-run=server'])).toEqual(refused('clusternetwork/dry', ['dry-1', 'dry-2']));
    expect(await xctl(['delete', 'cn/dry', 'nic/dry-1', 'nic/dry-2', 'nic/nope', '--dry-run=client'])).toEqual({
      code: 4, out: 'clusternetwork/dry deleted (dry run)\ncontainernic/dry-1 deleted (dry run)\ncontainernic/dry-2 deleted (dry run)\n', err: 'error: ContainerNic "nope" not found\n',
    });
    expect(await xctl(['delete', 'nic', '-l', 'nope=x', '--dry-run'])).toEqual({ code: 0, out: '', err: 'No resources found\n' });
    // as kubectl reads it: the word after a bare --dry-run is a NAME, not its strategy
    expect(await xctl(['delete', '--dry-run', 'nic', 'dry-1', 'none'])).toEqual({ code: 4, out: 'containernic/dry-1 deleted (dry run)\n', err: 'error: ContainerNic "none" not found\n' });
    expect(await lab.store.revision()).toBe(rev);
    expect(await lab.store.get('ContainerNic', 'dry-1')).toBeDefined();
    // none: the delete itself, as kubectl's
    expect((await xctl(['delete', 'nic', 'dry-1', '--dry-run=none'])).out).toBe('containernic/dry-1 deleted\n');
    expect((await lab.store.get('ContainerNic', 'dry-1'))?.metadata.deletionTimestamp).toBeTruthy();
    expect(await xctl(['delete', 'cn', 'dry', '--dry-run', '--wait'])).toMatchObject({ code: 2, out: '', err: expect.stringContaining('--wait is not for --dry-run') });
  });

  it('plans as the delete does: an object whose key does not decode would go', async () => {
    await lab.etcd.client().put(new Keys().object('ContainerNic', 'garbled')).value('not json');
    const rev = await lab.store.revision();
    expect(await xctl(['delete', 'nic', 'garbled', '--dry-run'])).toEqual({ code: 0, out: 'containernic/garbled deleted (dry run)\n', err: '' });
    expect(await lab.store.revision()).toBe(rev);
    expect((await xctl(['delete', 'nic', 'garbled'])).out).toBe('containernic/garbled deleted\n');
  });
});

const n = 30;

/** What the controller does once a deleted NIC's address is released (none runs here): once all are marked, their finalizers off, so they go. */
async function finalize(names: string[]): Promise<void> {
  const marked = async () => (await lab.store.list('ContainerNic')).items.filter((o) => names.includes(o.metadata.name) && o.metadata.deletionTimestamp);
  await eventually(async () => (await marked()).length === names.length, 'every NIC marked');
  for (const o of await marked()) await lab.store.update({ ...o, metadata: { ...o.metadata, finalizers: [] } });
}

describe('xctl delete -f of many Nodes', () => {
  it('deletes them all, reading them for the in-use check in one request rather than one (or more) per Node', async () => {
    const { names, f } = await manyApplied(lab, n, 'Node', 'many', (name) => `${V}\nkind: Node\nmetadata:\n  name: ${name}\nspec: {}\n`);
    const { r, requests } = await xctlCounted(lab, ['delete', '-f', f]);
    expect(r).toEqual({ code: 0, out: names.map((name) => `node/${name} deleted\n`).join(''), err: '' });
    for (const name of names) expect(await lab.store.get('Node', name), name).toBeUndefined();
    // the whole delete (its reads, the in-use check, the transaction, the status cleanup) takes
    // fewer requests than there are Nodes; a read per Node took at least one each
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThan(n);
  });
});

/**
 * `args` (a delete --wait or a wait --for delete of the NICs of manifest `f`) returns once they are
 * all gone, each said deleted, in fewer requests than there are NICs (a read per NIC took one each).
 */
async function allGoneCounted(names: string[], args: string[]): Promise<void> {
  const [{ r, requests }] = await Promise.all([xctlCounted(lab, [...args, '--timeout', '30s']), finalize(names)]);
  expect(r).toEqual({ code: 0, out: names.map((name) => `containernic/${name} deleted\n`).join(''), err: '' });
  for (const name of names) expect(await lab.store.get('ContainerNic', name), name).toBeUndefined();
  expect(requests).toBeGreaterThan(0);
  expect(requests).toBeLessThan(n);
}

describe('xctl delete --wait of many ContainerNics', () => {
  it('returns once they are all gone, reading them (their uids, then what the wait starts from) in one request rather than one per NIC', async () => {
    const { names, f } = await manyApplied(lab, n, 'ContainerNic', 'waited', (name) => nicDoc(name, 'clusterNetwork: waitnet'));
    // the delete and the wait (a watch from the delete's revision)
    await allGoneCounted(names, ['delete', '-f', f, '--wait']);
  });
});

describe('xctl wait --for delete of many ContainerNics', () => {
  it('returns once they are all gone, reading what it starts from in one request rather than one per NIC', async () => {
    const { names, f } = await manyApplied(lab, n, 'ContainerNic', 'awaited', (name) => nicDoc(name, 'clusterNetwork: waitnet'));
    expect((await xctl(['delete', '-f', f])).code).toBe(0);
    await allGoneCounted(names, ['wait', '--for', 'delete', '-f', f]);
  });
});
