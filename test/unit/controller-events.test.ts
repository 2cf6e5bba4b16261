// The controller's pure mapping from a cache change to the reconciles and pool wake-ups it causes.
import { describe, expect, it } from 'vitest';
import type { ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet, Node } from '../../pkg/api/index.js';
import { effectsOfChange, type ChangeScope } from '../../pkg/controller/events.js';
import type { Entry } from '../../pkg/controller/model.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';
import type { CacheChange } from '../../pkg/runtime/kv-cache.js';
import type { RawKv } from '../../pkg/runtime/kv.js';
import { Keys } from '../../pkg/store/keys.js';

const keys = new Keys('/xnet');
const ipam = new IpamKeys('/xnet');
const kv = (key: string, value: unknown): RawKv => ({ key, value: JSON.stringify(value), createRevision: '1', modRevision: '2', lease: '0' } as RawKv);
const entry = <T>(obj: T): Entry<T> => ({ obj, kv: kv('k', obj) });

const hs: HostSubnet = { apiVersion: 'xnet.io/v1alpha1', kind: 'HostSubnet', metadata: { name: 'default-n1' }, spec: { node: 'n1', clusterNetwork: 'default', icc: true } } as HostSubnet;
const nic = (name: string, node: string, network: ContainerNic['spec']['network']): ContainerNic =>
  ({ kind: 'ContainerNic', metadata: { name }, spec: { node, container: 'c', ifName: 'eth1', network, defaultRoute: false } }) as ContainerNic;
const nics = [
  nic('a', 'n1', { clusterNetwork: 'default' }),
  nic('b', 'n2', { clusterNetwork: 'default' }),
  nic('c', 'n1', { clusterNetwork: 'other' }),
  nic('m', 'n1', { macvlanNet: 'lan' }),
];
// deleted, waiting for its node's report to go (nic-finalizer.ts)
const deletingNic = { ...nic('z', 'n1', { clusterNetwork: 'default' }), metadata: { name: 'z', deletionTimestamp: '2026-01-01T00:00:00Z' } } as ContainerNic;
const mvns = [{ kind: 'MacvlanNet', metadata: { name: 'lan' } }, { kind: 'MacvlanNet', metadata: { name: 'wan' } }] as MacvlanNet[];

const withBridge = (name: string, bridge: string | undefined): HostSubnet => ({ ...hs, metadata: { name }, spec: { ...hs.spec, ...(bridge ? { bridge } : {}) } }) as HostSubnet;
const onN1 = [hs, withBridge('young', 'brx'), withBridge('old', 'brx'), withBridge('third', 'bry')];
const onOther = { ...hs, metadata: { name: 'other-n2' }, spec: { ...hs.spec, node: 'n2', clusterNetwork: 'other' } } as HostSubnet;

const scope: ChangeScope = {
  keys, ipam,
  hostSubnet: (name) => { const h = onN1.find((o) => o.metadata.name === name); return h && entry(h); },
  hostSubnetsOnNode: (node) => onN1.filter((o) => o.spec.node === node).map((o) => entry(o)),
  objects: <T extends ContainerNic | MacvlanNet | HostSubnet>(kind: T['kind']) =>
    ((kind === 'ContainerNic' ? nics : kind === 'HostSubnet' ? [...onN1, onOther] : mvns) as T[]).map((o) => entry(o)),
  object: <T extends ContainerNic | ClusterNetwork | MacvlanNet>(kind: T['kind'], name: string) => {
    const n = kind === 'ContainerNic' ? [...nics, deletingNic].find((o) => o.metadata.name === name)
      : kind === 'MacvlanNet' ? mvns.find((o) => o.metadata.name === name)
        : ['default', 'other'].includes(name) ? { kind, metadata: { name }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24 } } : undefined;
    return n && entry(n as T);
  },
  node: (name) => (name === 'n1' ? entry({ kind: 'Node', metadata: { name }, spec: {} } as unknown as Node) : undefined),
  nodesAccepting: (address) => (address === '198.18.0.31' ? ['squatter'] : address === '198.18.0.40' ? ['n2', 'n1'] : []),
  nodesReporting: (address) => (address === '198.18.0.31' ? ['squatter', 'n2', 'n1'] : []),
  nodesWithAddressIn: (cidr) => (cidr === '198.18.0.0/24' ? ['n1'] : cidr === '198.18.1.0/24' ? ['n2'] : []),
  hostSubnetsWaitingIn: () => [],
  hostSubnetsPinnedIn: (cn) => [...onN1, onOther].filter((o) => o.spec.clusterNetwork === cn && o.spec.subnet != null).map((o) => entry(o)),
};

/** The scope with these HostSubnets (and no other), those named in `waiting` waiting PoolExhausted: what Model's block-waiters index answers. */
const withHostSubnets = (all: HostSubnet[], waiting: string[] = []): ChangeScope => ({
  ...scope,
  objects: <T extends ContainerNic | MacvlanNet | HostSubnet>(kind: T['kind']) => (kind === 'HostSubnet' ? all.map((o) => entry(o)) : scope.objects(kind)) as Iterable<Entry<T>>,
  hostSubnetsWaitingIn: (cn) => all.filter((o) => o.spec.clusterNetwork === cn && waiting.includes(o.metadata.name)).map((o) => o.metadata.name),
  hostSubnetsPinnedIn: (cn) => all.filter((o) => o.spec.clusterNetwork === cn && o.spec.subnet != null).map((o) => entry(o)),
});

const change = (key: string, c: Partial<CacheChange> = {}): CacheChange => ({ key, local: false, ...c });

describe('effectsOfChange', () => {
  it('a HostSubnet naming a bridge re-queues the other HostSubnets of its node naming the same one (the older keeps it)', () => {
    const oldKey = keys.object('HostSubnet', 'old');
    expect(effectsOfChange(change(oldKey, { kv: kv(oldKey, withBridge('old', 'brx')) }), scope).keys).toEqual(['HostSubnet/old', 'HostSubnet/young']);
    // a rename of the bridge frees the old name: its other holder is looked at again too
    const thirdKey = keys.object('HostSubnet', 'third');
    const renamed = change(thirdKey, { kv: kv(thirdKey, withBridge('third', 'bry')), prev: kv(thirdKey, withBridge('third', 'brx')) });
    expect(effectsOfChange(renamed, scope).keys).toEqual(['HostSubnet/third', 'Node/n1', 'HostSubnet/young', 'HostSubnet/old']);
    // a derived bridge name re-queues no rival
    const plain = keys.object('HostSubnet', 'default-n1');
    expect(effectsOfChange(change(plain, { kv: kv(plain, hs) }), scope).keys).toEqual(['HostSubnet/default-n1']);
  });

  it('wakes the pool when a claim is freed, and does nothing when one is taken', () => {
    const key = ipam.claim('clusternetworks', 'default', 'addresses', parseIPv4('10.76.0.5'));
    expect(effectsOfChange(change(key, { prev: kv(key, {}) }), scope)).toEqual({ wake: ['clusternetworks/default'], keys: [] });
    expect(effectsOfChange(change(key, { kv: kv(key, {}) }), scope)).toEqual({ wake: [], keys: [] });
  });

  it('a MacvlanNet shim, Docker block, external mark or pre-claim of a gone Node freed, by its own round too, queues the MacvlanNet; a live node pre-claim or a claim that does not decode does not', () => {
    const owner = { kind: 'MacvlanNet', name: 'lan', uid: 'u' };
    const shim = ipam.claim('macvlannets', 'lan', 'addresses', parseIPv4('198.19.0.2'));
    const block = ipam.claim('macvlannets', 'lan', 'blocks', parseIPv4('198.19.0.240'));
    const queued = { wake: ['macvlannets/lan'], keys: ['MacvlanNet/lan'] };
    expect(effectsOfChange(change(shim, { prev: kv(shim, { owner, role: 'shim', ip: '198.19.0.2', node: 'n1' }), local: true }), scope)).toEqual(queued);
    expect(effectsOfChange(change(block, { prev: kv(block, { owner, role: 'docker-block', cidr: '198.19.0.240/28', node: 'n1' }), local: true }), scope)).toEqual(queued);
    expect(effectsOfChange(change(shim, { prev: kv(shim, { owner, role: 'node-pool', ip: '198.19.0.2', node: 'n1' }), local: true }), scope)).toEqual({ wake: ['macvlannets/lan'], keys: [] });
    // a pre-claim of a Node that is gone, and an external mark, cool for every taker: its status counts them apart
    expect(effectsOfChange(change(shim, { prev: kv(shim, { owner, role: 'node-pool', ip: '198.19.0.2', node: 'gone-node' }), local: true }), scope)).toEqual(queued);
    expect(effectsOfChange(change(shim, { prev: kv(shim, { owner, role: 'external', ip: '198.19.0.2', node: 'n1' }), local: true }), scope)).toEqual(queued);
    expect(effectsOfChange(change(shim, { prev: { ...kv(shim, {}), value: '{not json' } }), scope)).toEqual({ wake: ['macvlannets/lan'], keys: [] });
    // its MacvlanNet gone (deleted with its claims): nothing to plan
    const gone = ipam.claim('macvlannets', 'gone', 'addresses', parseIPv4('198.19.0.2'));
    expect(effectsOfChange(change(gone, { prev: kv(gone, { owner, role: 'shim', ip: '198.19.0.2', node: 'n1' }) }), scope)).toEqual({ wake: ['macvlannets/gone'], keys: [] });
  });

  it('a HostSubnet block freed re-queues the HostSubnets pinning a subnet in it (refused it, they have nothing on their node until allocated)', () => {
    const pinned = (name: string, subnet: string, clusterNetwork = 'default') => ({ ...hs, metadata: { name }, spec: { ...hs.spec, node: 'n9', clusterNetwork, subnet } }) as HostSubnet;
    const pins = [pinned('upper', '10.76.5.128/25'), pinned('apart', '10.76.6.0/24'), pinned('elsewhere', '10.76.5.0/24', 'other')];
    const withPins = withHostSubnets([hs, ...pins]);
    const key = ipam.claim('clusternetworks', 'default', 'blocks', parseIPv4('10.76.5.0'));
    const freed = { owner: { kind: 'HostSubnet', name: 'whole', uid: 'u' }, role: 'hostsubnet', cidr: '10.76.5.0/24' };
    expect(effectsOfChange(change(key, { prev: kv(key, freed) }), withPins)).toEqual({ wake: ['clusternetworks/default'], keys: ['HostSubnet/upper'] });
    // one that did not decode (no value known): any pinned one of that network may wait for it
    expect(effectsOfChange(change(key), withPins).keys).toEqual(['HostSubnet/upper', 'HostSubnet/apart']);
    // taken: nothing
    expect(effectsOfChange(change(key, { kv: kv(key, freed) }), withPins)).toEqual({ wake: [], keys: [] });
  });

  it('a HostSubnet block claim freed whose cidr is not its key\'s block (a pinned upper /25, a misfit written by hand) re-queues the pinned HostSubnets of the block its key held', () => {
    const pinned = (name: string, subnet: string) => ({ ...hs, metadata: { name }, spec: { ...hs.spec, node: 'n9', subnet } }) as HostSubnet;
    // lower and upper /25 of one /24 block: one claim key (10.76.5.0) for both, so lower was refused while upper held it
    const withPins = withHostSubnets([pinned('lower', '10.76.5.0/25'), pinned('apart', '10.76.7.0/24')]);
    const key = ipam.claim('clusternetworks', 'default', 'blocks', parseIPv4('10.76.5.0'));
    const upper = { owner: { kind: 'HostSubnet', name: 'upper', uid: 'u' }, role: 'hostsubnet', cidr: '10.76.5.128/25' };
    expect(effectsOfChange(change(key, { prev: kv(key, upper) }), withPins).keys).toEqual(['HostSubnet/lower']);
    // a misfit: kept at 10.76.5.0 (held there: the key's block is refused to others) naming a cidr far from it
    const misfit = { ...upper, cidr: '10.76.9.128/25' };
    expect(effectsOfChange(change(key, { prev: kv(key, misfit) }), withPins).keys).toEqual(['HostSubnet/lower']);
  });

  it('a HostSubnet block freed re-queues the HostSubnets of that network waiting PoolExhausted (a node that joined a full network)', () => {
    const unpinned = (name: string, clusterNetwork = 'default') => ({ ...hs, metadata: { name }, spec: { ...hs.spec, node: name, clusterNetwork } }) as HostSubnet;
    const all = [unpinned('waits'), unpinned('elsewhere', 'other'), unpinned('fine'), unpinned('invalid'), unpinned('garbled'), unpinned('new')];
    const waiting = withHostSubnets(all, ['waits', 'elsewhere']);
    const key = ipam.claim('clusternetworks', 'default', 'blocks', parseIPv4('10.76.5.0'));
    const freed = { owner: { kind: 'HostSubnet', name: 'gone', uid: 'u' }, role: 'hostsubnet', cidr: '10.76.5.0/24' };
    expect(effectsOfChange(change(key, { prev: kv(key, freed) }), waiting)).toEqual({ wake: ['clusternetworks/default'], keys: ['HostSubnet/waits'] });
    expect(effectsOfChange(change(key), waiting).keys).toEqual(['HostSubnet/waits']);
    // a NIC address freed is no block freed: nothing is queued, its pool's waiting NICs are woken
    const addr = ipam.claim('clusternetworks', 'default', 'addresses', parseIPv4('10.76.5.9'));
    expect(effectsOfChange(change(addr, { prev: kv(addr, {}) }), waiting)).toEqual({ wake: ['clusternetworks/default'], keys: [] });
  });

  it('a network made or deleted re-queues the NICs on a network that does not exist (their "did you mean" changes)', () => {
    const typo = nic('typo', 'n1', { clusterNetwork: 'defualt' });
    const withTypo: ChangeScope = { ...scope, objects: <T extends ContainerNic | MacvlanNet | HostSubnet>(kind: T['kind']) => (kind === 'ContainerNic' ? [...nics, typo].map((o) => entry(o as T)) : scope.objects<T>(kind)) };
    const cnKey = keys.object('ClusterNetwork', 'default');
    expect(effectsOfChange(change(cnKey, { kv: kv(cnKey, {}) }), withTypo).keys).toContain('ContainerNic/typo');
    expect(effectsOfChange(change(cnKey, { prev: kv(cnKey, {}) }), withTypo).keys).toContain('ContainerNic/typo');
    // an edit changes no name: only its own NICs
    expect(effectsOfChange(change(cnKey, { kv: kv(cnKey, {}), prev: kv(cnKey, {}) }), withTypo).keys).not.toContain('ContainerNic/typo');
    // a MacvlanNet made says nothing to a NIC on a ClusterNetwork
    const mvKey = keys.object('MacvlanNet', 'wan');
    expect(effectsOfChange(change(mvKey, { kv: kv(mvKey, {}) }), withTypo).keys).not.toContain('ContainerNic/typo');
  });

  it('re-queues an edited object and the objects that depend on it', () => {
    const cnKey = keys.object('ClusterNetwork', 'default');
    // a ClusterNetwork's HostSubnets (an edited cidr moves them) before its NICs
    expect(effectsOfChange(change(cnKey, { kv: kv(cnKey, {}), prev: kv(cnKey, {}) }), scope).keys).toEqual([
      'ClusterNetwork/default', 'HostSubnet/default-n1', 'HostSubnet/young', 'HostSubnet/old', 'HostSubnet/third',
      'ContainerNic/a', 'ContainerNic/b',
    ]);
    // deleted: its reconcile deletes or re-queues its HostSubnets itself
    expect(effectsOfChange(change(cnKey, { prev: kv(cnKey, {}) }), scope).keys).toEqual(['ClusterNetwork/default', 'ContainerNic/a', 'ContainerNic/b']);
    // its own commits (none edits a spec) queue nothing
    expect(effectsOfChange(change(cnKey, { kv: kv(cnKey, {}), prev: kv(cnKey, {}), local: true }), scope).keys).toEqual([]);
    const nodeKey = keys.object('Node', 'n1');
    // a new Node: its MacvlanNets, and what is bound to it (their messages said no such Node: node-missing.ts)
    expect(effectsOfChange(change(nodeKey, { kv: kv(nodeKey, {}) }), scope).keys).toEqual([
      'Node/n1', 'MacvlanNet/lan', 'MacvlanNet/wan', 'HostSubnet/default-n1', 'HostSubnet/young', 'HostSubnet/old', 'HostSubnet/third',
      'ContainerNic/a', 'ContainerNic/c', 'ContainerNic/m',
    ]);
    // a deleted Node: every MacvlanNet too (one whose spec.nodes names it says so again: node-missing.ts)
    expect(effectsOfChange(change(nodeKey, { prev: kv(nodeKey, {}) }), scope).keys).toEqual(expect.arrayContaining(['MacvlanNet/lan', 'MacvlanNet/wan']));
    // an edited Node: its MacvlanNets only
    expect(effectsOfChange(change(nodeKey, { kv: kv(nodeKey, {}), prev: kv(nodeKey, {}) }), scope).keys).toEqual(['Node/n1', 'MacvlanNet/lan', 'MacvlanNet/wan']);
    const hsKey = keys.object('HostSubnet', 'default-n1');
    expect(effectsOfChange(change(hsKey, { kv: kv(hsKey, hs), prev: kv(hsKey, hs) }), scope).keys).toEqual(['HostSubnet/default-n1', 'Node/n1']);
  });

  it('a HostSubnet deleted or re-bound by someone else re-queues the NICs of its old node and network (their block may be free)', () => {
    const hsKey = keys.object('HostSubnet', 'default-n1');
    expect(effectsOfChange(change(hsKey, { prev: kv(hsKey, hs) }), scope).keys).toContain('ContainerNic/a');
    const moved = { ...hs, spec: { ...hs.spec, node: 'n2' } };
    const rebound = effectsOfChange(change(hsKey, { kv: kv(hsKey, moved), prev: kv(hsKey, hs) }), scope).keys;
    expect(rebound).toContain('ContainerNic/a');
    expect(rebound).not.toContain('ContainerNic/b');
    expect(rebound).not.toContain('ContainerNic/c');
  });

  it('a Node given the spec.address another Node had accepted queues that Node, which loses it', () => {
    const key = keys.object('Node', 'admin-pinned');
    const pinned = { kind: 'Node', metadata: { name: 'admin-pinned' }, spec: { address: '198.18.0.31' } };
    expect(effectsOfChange(change(key, { kv: kv(key, pinned) }), scope).keys).toEqual(['Node/admin-pinned', 'MacvlanNet/lan', 'MacvlanNet/wan', 'Node/squatter']);
    // the same pin applied again changes nothing for the others
    expect(effectsOfChange(change(key, { kv: kv(key, pinned), prev: kv(key, pinned) }), scope).keys).toEqual(['Node/admin-pinned', 'MacvlanNet/lan', 'MacvlanNet/wan']);
  });

  it('an address a Node\'s controller status lets go queues one other Node whose agent reports it (the first by name), its own commit too', () => {
    const key = keys.status('Node', 'squatter', { controller: true });
    const held = { address: '198.18.0.31' };
    expect(effectsOfChange(change(key, { prev: kv(key, held), kv: kv(key, {}), local: true }), scope).keys).toEqual(['Node/n1']);
    expect(effectsOfChange(change(key, { prev: kv(key, held), kv: kv(key, held), local: true }), scope).keys).toEqual([]);
  });

  it('an address two Nodes\' controller statuses hold (two reports accepted in one round) queues both', () => {
    const key = keys.status('Node', 'n2', { controller: true });
    expect(effectsOfChange(change(key, { prev: kv(key, {}), kv: kv(key, { address: '198.18.0.40' }), local: true }), scope).keys).toEqual(['Node/n1', 'Node/n2']);
  });

  it('a pool made, moved or deleted queues the Nodes with an address inside it before or after (judged again at once)', () => {
    const cn = keys.object('ClusterNetwork', 'over');
    const at = (cidr: string) => kv(cn, { kind: 'ClusterNetwork', metadata: { name: 'over' }, spec: { cidr, hostPrefix: 24 } });
    expect(effectsOfChange(change(cn, { prev: at('198.18.0.0/24') }), scope).keys).toContain('Node/n1');
    expect(effectsOfChange(change(cn, { prev: at('198.18.0.0/24'), kv: at('198.18.1.0/24') }), scope).keys).toEqual(expect.arrayContaining(['Node/n1', 'Node/n2']));
    expect(effectsOfChange(change(cn, { kv: at('10.1.0.0/16') }), scope).keys.filter((k) => k.startsWith('Node/'))).toEqual([]);
    // a MacvlanNet's last step is the controller's own delete (its finalizer done): that wakes them too
    const mv = keys.object('MacvlanNet', 'lan');
    const lan = kv(mv, { kind: 'MacvlanNet', metadata: { name: 'lan' }, spec: { subnet: '198.18.0.0/24' } });
    expect(effectsOfChange(change(mv, { prev: lan, local: true }), scope).keys).toEqual(['Node/n1']);
    // not its own other commits (the finalizer added)
    expect(effectsOfChange(change(mv, { prev: lan, kv: lan, local: true }), scope).keys).toEqual([]);
  });

  it('wakes a MacvlanNet pool on any change to it, but skips the reconciles for its own commits', () => {
    const key = keys.object('MacvlanNet', 'lan');
    expect(effectsOfChange(change(key, { kv: kv(key, {}), local: true }), scope)).toEqual({ wake: ['macvlannets/lan'], keys: [] });
    expect(effectsOfChange(change(key, { kv: kv(key, {}) }), scope)).toEqual({ wake: ['macvlannets/lan'], keys: ['MacvlanNet/lan', 'ContainerNic/m'] });
  });

  it('queues every MacvlanNet, and the NICs bound to it, for a Node the controller made itself (a node that joined), not for its other own Node commits', () => {
    const nodeKey = keys.object('Node', 'n2');
    expect(effectsOfChange(change(nodeKey, { kv: kv(nodeKey, {}), local: true }), scope).keys).toEqual(['MacvlanNet/lan', 'MacvlanNet/wan', 'ContainerNic/b']);
    expect(effectsOfChange(change(nodeKey, { kv: kv(nodeKey, {}), prev: kv(nodeKey, {}), local: true }), scope).keys).toEqual([]);
  });

  it('queues every MacvlanNet when a node\'s agent report about itself comes or goes (its agent back or lost), not when it is rewritten', () => {
    const self = keys.status('Node', 'n1', { node: 'n1' });
    const all = ['Node/n1', 'MacvlanNet/lan', 'MacvlanNet/wan'];
    expect(effectsOfChange(change(self, { prev: kv(self, {}) }), scope).keys).toEqual(all);
    expect(effectsOfChange(change(self, { kv: kv(self, {}) }), scope).keys).toEqual(all);
    expect(effectsOfChange(change(self, { kv: kv(self, {}), prev: kv(self, {}) }), scope).keys).toEqual(['Node/n1']);
  });

  it('queues every MacvlanNet when the controller\'s Node status changes its Ready reason (NodeLost written or gone), not otherwise', () => {
    const st = keys.status('Node', 'n1', { controller: true });
    const ready = (reason: string, extra = {}) => kv(st, { conditions: [{ type: 'Ready', status: 'False', reason }], ...extra });
    expect(effectsOfChange(change(st, { prev: ready('AgentNotStarted'), kv: ready('NodeLost'), local: true }), scope).keys).toEqual(['MacvlanNet/lan', 'MacvlanNet/wan']);
    expect(effectsOfChange(change(st, { prev: ready('NodeLost'), kv: ready('NodeLost', { interface: 'eth0' }), local: true }), scope).keys).toEqual([]);
  });

  it('queues garbage collection of a deleted object\'s uid', () => {
    const key = keys.object('ContainerNic', 'a');
    const prev = kv(key, { ...nics[0], metadata: { name: 'a', uid: 'u-1' } });
    expect(effectsOfChange(change(key, { prev }), scope).keys).toEqual(['ContainerNic/a', 'gc/uid/u-1']);
  });

  it('re-queues the NICs of a HostSubnet whose subnet moved, and rewrites a status someone removed', () => {
    const key = keys.status('HostSubnet', 'default-n1', { controller: true });
    const moved = effectsOfChange(change(key, { local: true, prev: kv(key, { subnet: '10.76.0.0/24' }), kv: kv(key, { subnet: '10.76.9.0/24' }) }), scope);
    expect(moved).toEqual({ wake: ['clusternetworks/default'], keys: ['ContainerNic/a'] });
    const same = effectsOfChange(change(key, { local: true, prev: kv(key, { subnet: '10.76.0.0/24' }), kv: kv(key, { subnet: '10.76.0.0/24' }) }), scope);
    expect(same).toEqual({ wake: ['clusternetworks/default'], keys: [] });
    const nodeStatus = keys.status('Node', 'n1', { controller: true });
    expect(effectsOfChange(change(nodeStatus, { prev: kv(nodeStatus, {}) }), scope).keys).toEqual(['Node/n1']);
    expect(effectsOfChange(change(nodeStatus, { prev: kv(nodeStatus, {}), local: true }), scope).keys).toEqual([]);
  });

  it('rewrites a NIC status someone removed from its node\'s index', () => {
    const st = keys.controllerStatus('ContainerNic', 'a', 'n1')!;
    expect(st).toBe('/xnet/registry/bynode/n1/status/controller/containernics/a');
    expect(effectsOfChange(change(st, { prev: kv(st, {}) }), scope).keys).toEqual(['ContainerNic/a']);
    // its own delete (a NIC going), and any write, cause nothing
    expect(effectsOfChange(change(st, { prev: kv(st, {}), local: true }), scope).keys).toEqual([]);
    expect(effectsOfChange(change(st, { kv: kv(st, {}) }), scope).keys).toEqual([]);
  });

  it('re-queues a NIC\'s MacvlanNet when the NIC starts or stops waiting for a free address (its Ready counts them), by the controller\'s own commit too', () => {
    const st = keys.controllerStatus('ContainerNic', 'm', 'n1')!;
    const allocated = (status: string, reason: string, message = '') => kv(st, { conditions: [{ type: 'Allocated', status, reason, message }] });
    const waits = allocated('False', 'PoolExhausted', 'no free address left');
    expect(effectsOfChange(change(st, { kv: waits, local: true }), scope).keys).toEqual(['MacvlanNet/lan']);
    expect(effectsOfChange(change(st, { prev: waits, kv: allocated('True', 'Allocated'), local: true }), scope).keys).toEqual(['MacvlanNet/lan']);
    expect(effectsOfChange(change(st, { prev: waits, local: true }), scope).keys).toEqual(['MacvlanNet/lan']);
    // refused for another reason, or still waiting (a cooldown's message counts down): nothing for its MacvlanNet
    expect(effectsOfChange(change(st, { kv: allocated('False', 'IPConflict'), local: true }), scope).keys).toEqual([]);
    expect(effectsOfChange(change(st, { prev: waits, kv: allocated('False', 'PoolExhausted', 'reused in 2 s'), local: true }), scope).keys).toEqual([]);
    // a NIC on a ClusterNetwork has no MacvlanNet to tell
    const onCn = keys.controllerStatus('ContainerNic', 'a', 'n1')!;
    expect(effectsOfChange(change(onCn, { kv: kv(onCn, { conditions: [{ type: 'Allocated', status: 'False', reason: 'PoolExhausted' }] }), local: true }), scope).keys).toEqual([]);
    // a NIC gone (its status may go after it, when whose network it was is no longer known)
    const key = keys.object('ContainerNic', 'm');
    expect(effectsOfChange(change(key, { prev: kv(key, nics[3]), local: true }), scope).keys).toEqual(['MacvlanNet/lan']);
    expect(effectsOfChange(change(key, { prev: kv(key, nics[3]), kv: kv(key, nics[3]), local: true }), scope).keys).toEqual([]);
  });

  it('repairs a NIC\'s copy in its node\'s index that someone else removed or made unlike the NIC, not one equal to it', () => {
    const copy = keys.indexed('n1', keys.object('ContainerNic', 'a'));
    const same = kv(copy, nic('a', 'n1', { clusterNetwork: 'default' }));
    expect(effectsOfChange(change(copy, { prev: same }), scope).keys).toEqual(['ContainerNic/a']);
    expect(effectsOfChange(change(copy, { kv: kv(copy, { forged: true }), prev: same }), scope).keys).toEqual(['ContainerNic/a']);
    // xctl's copy, written with its object: equal to it, no work
    expect(effectsOfChange(change(copy, { kv: same }), scope).keys).toEqual([]);
    // the controller's own writes, a copy in another node's index than the NIC's, a copy of no NIC
    expect(effectsOfChange(change(copy, { prev: same, local: true }), scope).keys).toEqual([]);
    const elsewhere = keys.indexed('n2', keys.object('ContainerNic', 'a'));
    expect(effectsOfChange(change(elsewhere, { prev: kv(elsewhere, {}) }), scope).keys).toEqual([]);
    const none = keys.indexed('n1', keys.object('ContainerNic', 'gone'));
    expect(effectsOfChange(change(none, { prev: kv(none, {}) }), scope).keys).toEqual([]);
  });

  it('reacts to agents\' reports only for their own Node and for MacvlanNets', () => {
    const own = keys.status('Node', 'n1', { node: 'n1' });
    const other = keys.status('Node', 'n1', { node: 'n2' });
    const mvn = keys.status('MacvlanNet', 'lan', { node: 'n2' });
    const nicSt = keys.status('ContainerNic', 'a', { node: 'n1' });
    expect(effectsOfChange(change(own, { kv: kv(own, {}), prev: kv(own, {}) }), scope)).toEqual({ wake: [], keys: ['Node/n1'], reporter: 'n1' });
    expect(effectsOfChange(change(other, { kv: kv(other, {}) }), scope)).toEqual({ wake: [], keys: [] });
    expect(effectsOfChange(change(mvn, { kv: kv(mvn, {}) }), scope)).toEqual({ wake: [], keys: ['MacvlanNet/lan'], reporter: 'n2' });
    expect(effectsOfChange(change(nicSt, { kv: kv(nicSt, {}) }), scope).keys).toEqual([]);
    expect(effectsOfChange(change('/elsewhere/x', { kv: kv('/elsewhere/x', {}) }), scope)).toEqual({ wake: [], keys: [] });
  });

  it('looks at the claims a node\'s HostSubnet report kept once the report goes or is about another incarnation', () => {
    const hsSt = keys.status('HostSubnet', 'gone', { node: 'n1' });
    expect(effectsOfChange(change(hsSt, { prev: kv(hsSt, { objectUid: 'u1' }) }), scope).keys).toEqual(['gc/uid/u1']);
    expect(effectsOfChange(change(hsSt, { prev: kv(hsSt, { objectUid: 'u1' }), kv: kv(hsSt, { objectUid: 'u2' }) }), scope).keys).toEqual(['gc/uid/u1']);
    expect(effectsOfChange(change(hsSt, { prev: kv(hsSt, { objectUid: 'u1' }), kv: kv(hsSt, { objectUid: 'u1', x: 1 }) }), scope).keys).toEqual([]);
    // untrusted: a report that says nothing readable names no claims
    expect(effectsOfChange(change(hsSt, { prev: { ...kv(hsSt, {}), value: 'not json' } }), scope).keys).toEqual([]);
    expect(effectsOfChange(change(hsSt, { prev: kv(hsSt, { objectUid: 7 }) }), scope).keys).toEqual([]);
  });

  it('re-queues a deleting NIC when its node\'s report goes, turns unreadable or appears (readable again), not when it is rewritten', () => {
    const z = keys.status('ContainerNic', 'z', { node: 'n1' });
    const a = keys.status('ContainerNic', 'a', { node: 'n1' });
    expect(effectsOfChange(change(z, { prev: kv(z, {}) }), scope).keys).toEqual(['ContainerNic/z']);
    expect(effectsOfChange(change(z, { prev: kv(z, {}), refused: true }), scope).keys).toEqual(['ContainerNic/z']);
    expect(effectsOfChange(change(z, { kv: kv(z, {}) }), scope).keys).toEqual(['ContainerNic/z']);
    expect(effectsOfChange(change(z, { kv: kv(z, {}), prev: kv(z, {}) }), scope).keys).toEqual([]);
    // a NIC not being deleted: its first report queues nothing (its delete is not waiting)
    expect(effectsOfChange(change(a, { kv: kv(a, {}) }), scope).keys).toEqual([]);
    expect(effectsOfChange(change(z, { kv: kv(z, {}), local: true }), scope).keys).toEqual([]);
  });
});
