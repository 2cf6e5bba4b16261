// Table of good and bad objects: each bad one must be refused naming the field at fault.
import { describe, expect, it } from 'vitest';
import { formatPath, validateObject } from '../../pkg/api/validate.js';
import { crossObjectIssues, duplicateIssues, storedKindsToCheck } from '../../pkg/api/validate-cross.js';
import type { AnyObject } from '../../pkg/api/types.js';

const V = 'xnet.io/v1alpha1';
type Raw = Record<string, any>;
const cn = (spec: Raw = {}, name = 'default'): Raw => ({ apiVersion: V, kind: 'ClusterNetwork', metadata: { name }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: `net-${name}`, ...spec } });
const node = (spec: Raw = {}, meta: Raw = {}): Raw => ({ apiVersion: V, kind: 'Node', metadata: { name: 'host-1', ...meta }, spec });
const hs = (spec: Raw = {}, name = 'default-host-1'): Raw => ({ apiVersion: V, kind: 'HostSubnet', metadata: { name }, spec: { node: 'host-1', clusterNetwork: 'default', ...spec } });
const nic = (spec: Raw = {}, name = 'test-eth1'): Raw => ({ apiVersion: V, kind: 'ContainerNic', metadata: { name }, spec: { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' }, ...spec } });
const mvn = (spec: Raw = {}, name = 'macvlan200'): Raw => ({ apiVersion: V, kind: 'MacvlanNet', metadata: { name }, spec: { subnet: '198.19.200.0/24', ...spec } });
const without = (o: Raw, key: string): Raw => { const c = structuredClone(o); delete c[key]; return c; };

const good: [string, Raw][] = [
  ['minimal ClusterNetwork', cn()],
  ['full ClusterNetwork', cn({ reserved: ['10.76.0.0/24'], dockerNetwork: 'net1', bridgePrefix: 'br', masquerade: false, mtu: 1450, nodeSelector: { matchLabels: { rack: 'r1' } } })],
  ['Node without spec', without(node(), 'spec')],
  ['label keys at the Kubernetes limits (prefix of 253, name of 63)', node({}, { labels: { [`${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}/${'n'.repeat(63)}`]: 'x', ['n'.repeat(63)]: 'y' } })],
  ['Node with address and labels', node({ address: '198.18.0.11', interface: 'eth0' }, { labels: { rack: 'r1', 'xnet.io/role': 'edge' }, annotations: { note: 'any text' } })],
  ['HostSubnet to be allocated', hs()],
  ['pinned HostSubnet', hs({ subnet: '10.76.1.0/24', gateway: '10.76.1.1', bridge: 'br01', dockerRange: '10.76.1.128/25', icc: false })],
  ['ContainerNic on a ClusterNetwork', nic({ ip: '10.76.1.84', mac: '02:42:0a:4c:01:54', defaultRoute: true })],
  ['ContainerNic on a MacvlanNet', nic({ network: { macvlanNet: 'macvlan200' } })],
  ['minimal MacvlanNet', mvn()],
  // xnet's IPAM plugin (the default) carves no blocks: blockPrefix, even its default, does not apply
  ['small MacvlanNet segments with xnet\'s IPAM plugin', mvn({ subnet: '198.19.201.0/29' })],
  ['a /30 MacvlanNet with a gateway', mvn({ subnet: '198.19.201.0/30', gateway: '198.19.201.1', dockerIPAM: 'xnet' })],
  ['full MacvlanNet', mvn({ gateway: '198.19.200.1', ipRange: '198.19.200.128/25', exclude: ['198.19.200.10/31'], parent: 'eth0', vlan: 200, mode: 'vepa', promiscuous: false, hostShim: false, dockerNetwork: 'mv', blockPrefix: 28, nodes: [{ name: 'host-1' }, { name: 'host-2', parent: 'enp0s5' }] })],
  ['system metadata from get -o yaml', { ...cn(), metadata: { name: 'default', uid: 'u-1', resourceVersion: '42', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z', finalizers: ['xnet.io/ipam'] } }],
  ['status is ignored, even if odd', { ...nic(), status: { ip: 'not-an-ip', whatever: [1] } }],
];

// [case, object, expected field path, fragment of the reason]
const bad: [string, unknown, string, RegExp][] = [
  ['not a mapping', ['a'], '(document)', /must be a mapping/],
  ['missing apiVersion', without(cn(), 'apiVersion'), 'apiVersion', /required/],
  ['wrong apiVersion', { ...cn(), apiVersion: 'v1' }, 'apiVersion', /must be xnet\.io\/v1alpha1/],
  ['missing kind', without(cn(), 'kind'), 'kind', /required/],
  ['unknown kind', { ...cn(), kind: 'Pod' }, 'kind', /unknown kind "Pod"/],
  ['kind in lower case', { ...cn(), kind: 'clusternetwork' }, 'kind', /did you mean ClusterNetwork/],
  ['unknown top-level field', { ...cn(), extra: 1 }, 'extra', /unknown field/],
  ['unknown spec field, with a hint', cn({ cidrs: '10.0.0.0/8' }), 'spec.cidrs', /unknown field \(did you mean "cidr"\?\)/],
  ['unknown nested field', nic({ network: { clusterNetwork: 'default', bridge: 'x' } }), 'spec.network.bridge', /unknown field.*allowed here: clusterNetwork, macvlanNet/],
  ['missing metadata.name', { ...cn(), metadata: {} }, 'metadata.name', /required/],
  ['name not DNS-1123', cn({}, 'Default_Net'), 'metadata.name', /DNS-1123/],
  ['name too long', cn({}, 'a'.repeat(64)), 'metadata.name', /at most 63/],
  ['bad label key', node({}, { labels: { 'bad key': 'x' } }), 'metadata.labels[bad key]', /label key/],
  ['bad label value', node({}, { labels: { rack: 'has space' } }), 'metadata.labels.rack', /label value/],
  ['a label value ending with "-" (docs/api.md: starts and ends with a letter or digit)', node({}, { labels: { rack: 'r1-' } }), 'metadata.labels.rack', /label value/],
  ['bad label key, saying what a key may be', node({}, { labels: { 'rack/': 'x' } }), 'metadata.labels.rack/', /^invalid label key: a key is \[prefix\/\]name: name of letters, digits/],
  ['label key whose name part is 64 characters', node({}, { labels: { ['n'.repeat(64)]: 'x' } }), `metadata.labels.${'n'.repeat(64)}`, /^invalid label key: the name \(after any "\/"\) has 64 characters, at most 63; a key is \[prefix\/\]name: /],
  ['label key with a prefix and a 64-character name part', node({}, { labels: { [`xnet.io/${'n'.repeat(64)}`]: 'x' } }), `metadata.labels[xnet.io/${'n'.repeat(64)}]`, /the name \(after any "\/"\) has 64 characters, at most 63/],
  ['label key whose prefix is 254 characters', node({}, { labels: { [`${'a'.repeat(62)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}/rack`]: 'x' } }), `metadata.labels[${'a'.repeat(62)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}/rack]`, /^invalid label key: the prefix \(before the "\/"\) has 254 characters, at most 253; /],
  ['label key whose prefix is not a DNS subdomain', node({}, { labels: { 'xnet..io/rack': 'x' } }), 'metadata.labels[xnet..io/rack]', /^invalid label key: a key is \[prefix\/\]name: .*prefix a DNS subdomain/],
  ['label key whose prefix has upper case', node({}, { labels: { 'XNet.io/rack': 'x' } }), 'metadata.labels[XNet.io/rack]', /^invalid label key: a key is \[prefix\/\]name: /],
  ['bad label value, saying what a value may be', node({}, { labels: { rack: 'a b' } }), 'metadata.labels.rack', /invalid label value: at most 63 letters, digits, "-", "_" and "\.", starting and ending with a letter or digit \(or empty\)/],
  ['a label value YAML read as a number', node({}, { labels: { rack: 1 } }), 'metadata.labels.rack', /must be a string, not a number; put the value in quotes \(YAML reads unquoted 1 as a number\)/],
  ['a name YAML read as a number', cn({}, 1234 as never), 'metadata.name', /must be a string, not a number; put the value in quotes/],
  ['a label value YAML read as a boolean', node({}, { labels: { edge: true } }), 'metadata.labels.edge', /must be a string, not a boolean; put the value in quotes \(YAML reads unquoted true as a boolean\)/],
  ['an exclude entry written as a bare address', mvn({ exclude: ['198.19.200.7'] }), 'spec.exclude[0]', /not a CIDR \(expected a\.b\.c\.d\/prefix\); did you mean 198\.19\.200\.7\/32\?/],
  ['metadata.namespace (a kubectl habit)', { ...cn(), metadata: { name: 'default', namespace: 'default' } }, 'metadata.namespace', /^unknown field: xnet objects are cluster-wide and have no namespace; remove it$/],
  ['an ip written with a prefix length', nic({ ip: '10.76.1.84/24' }), 'spec.ip', /must be an IPv4 address such as 10\.76\.1\.84; did you mean 10\.76\.1\.84\? \(the prefix length comes from the network\)/],
  ['reserved written as one CIDR, not a list', cn({ reserved: '10.76.0.0/24' }), 'spec.reserved', /^must be a list, not a string; write it as \[10\.76\.0\.0\/24\]$/],
  ['a list where a number is wanted (an article for each)', cn({ mtu: [1500] }), 'spec.mtu', /^must be a number, not an array$/],
  ['mode in the wrong case', mvn({ mode: 'Bridge' }), 'spec.mode', /must be one of bridge, private, vepa, passthru \(did you mean "bridge"\?\)/],
  ['missing cidr', without(cn(), 'spec'), 'spec', /required/],
  ['cidr syntax', cn({ cidr: '10.76.0.0' }), 'spec.cidr', /not a CIDR/],
  ['cidr host bits', cn({ cidr: '10.76.1.0/16' }), 'spec.cidr', /host bits.*10\.76\.0\.0\/16/],
  ['cidr prefix > 32', cn({ cidr: '10.0.0.0/33' }), 'spec.cidr', /prefix length/],
  ['cidr octet out of range', cn({ cidr: '10.300.0.0/16' }), 'spec.cidr', /IPv4/],
  ['hostPrefix not a number', cn({ hostPrefix: '24' }), 'spec.hostPrefix', /must be a number, not a string/],
  ['hostPrefix too large', cn({ hostPrefix: 31 }), 'spec.hostPrefix', /must be <= 30/],
  ['hostPrefix shorter than cidr prefix', cn({ hostPrefix: 12 }), 'spec.hostPrefix', /must be >= the prefix of cidr/],
  ['cidr shorter than /8 (host-wide NAT rules)', cn({ cidr: '0.0.0.0/0', hostPrefix: 24 }), 'spec.cidr', /a ClusterNetwork must be a \/8 or longer/],
  ['cidr in multicast space', cn({ cidr: '224.1.0.0/16' }), 'spec.cidr', /overlaps 224\.0\.0\.0\/4/],
  ['reserved outside cidr', cn({ reserved: ['10.76.0.0/24', '10.77.0.0/24'] }), 'spec.reserved[1]', /not inside cidr 10\.76\.0\.0\/16/],
  ['bridgePrefix too long', cn({ bridgePrefix: 'averylongprefix' }), 'spec.bridgePrefix', /1\.\.11/],
  ['mtu too small', cn({ mtu: 100 }), 'spec.mtu', /576/],
  ['node address not IPv4', node({ address: '198.18.0' }), 'spec.address', /IPv4 address/],
  ['interface name too long', node({ interface: 'averyveryverylongname' }), 'spec.interface', /at most 15/],
  ['interface name with slash', node({ interface: 'eth/0' }), 'spec.interface', /may contain only/],
  ['interface name with shell char', node({ interface: 'eth0;rm' }), 'spec.interface', /may contain only/],
  ['interface name with space', node({ interface: 'eth 0' }), 'spec.interface', /may contain only/],
  ['HostSubnet without node', without(hs(), 'spec'), 'spec', /required/],
  ['HostSubnet missing clusterNetwork', { ...hs(), spec: { node: 'host-1' } }, 'spec.clusterNetwork', /required/],
  ['HostSubnet gateway outside subnet', hs({ subnet: '10.76.1.0/24', gateway: '10.76.2.1' }), 'spec.gateway', /not inside subnet 10\.76\.1\.0\/24/],
  ['HostSubnet gateway = network address', hs({ subnet: '10.76.1.0/24', gateway: '10.76.1.0' }), 'spec.gateway', /network address/],
  ['HostSubnet gateway = broadcast', hs({ subnet: '10.76.1.0/24', gateway: '10.76.1.255' }), 'spec.gateway', /broadcast address/],
  ['HostSubnet gateway without subnet', hs({ gateway: '10.76.1.1' }), 'spec.gateway', /needs spec\.subnet/],
  ['HostSubnet dockerRange outside subnet', hs({ subnet: '10.76.1.0/24', dockerRange: '10.76.2.128/25' }), 'spec.dockerRange', /not inside subnet/],
  ['HostSubnet bridge name too long', hs({ bridge: 'bridge-name-too-long' }), 'spec.bridge', /at most 15/],
  ['HostSubnet bridge that is a host interface', hs({ bridge: 'eth0' }), 'spec.bridge', /^"eth0" is a host interface xnet does not own; choose another bridge name$/],
  ['HostSubnet bridge with a name Docker gives to veths', hs({ bridge: 'veth1234' }), 'spec.bridge', /^"veth1234" is a name xnet or Docker gives to other links; choose another bridge name$/],
  ['ContainerNic with no network', nic({ network: {} }), 'spec.network', /exactly one network: set clusterNetwork or macvlanNet/],
  ['ContainerNic with the all-zero MAC', nic({ mac: '00:00:00:00:00:00' }), 'spec.mac', /must not be 00:00:00:00:00:00/],
  ['ContainerNic with two networks', nic({ network: { clusterNetwork: 'default', macvlanNet: 'm' } }), 'spec.network', /both set/],
  ['ContainerNic ip not IPv4', nic({ ip: '10.76.1.256' }), 'spec.ip', /IPv4/],
  ['ContainerNic bad MAC', nic({ mac: '02:42:0a:4c:01' }), 'spec.mac', /MAC address/],
  ['ContainerNic multicast MAC', nic({ mac: '01:00:5e:00:00:01' }), 'spec.mac', /unicast/],
  ['ContainerNic ifName too long', nic({ ifName: 'eth1234567890123' }), 'spec.ifName', /at most 15/],
  ['ContainerNic ifName lo', nic({ ifName: 'lo' }), 'spec.ifName', /"lo" is the container's loopback interface/],
  ['ContainerNic ifName eth0', nic({ ifName: 'eth0' }), 'spec.ifName', /"eth0" is the interface Docker gives the container on its first network/],
  ['ContainerNic container name', nic({ container: '-bad' }), 'spec.container', /container name/],
  ['ContainerNic container name starting with "_" (docs/api.md: a letter or digit first, as Docker names)', nic({ container: '_x' }), 'spec.container', /container name/],
  ['ContainerNic defaultRoute not boolean', nic({ defaultRoute: 'yes' }), 'spec.defaultRoute', /must be a boolean, not a string/],
  ['MacvlanNet vlan 0', mvn({ vlan: 0 }), 'spec.vlan', /must be >= 1/],
  ['MacvlanNet vlan 4095', mvn({ vlan: 4095 }), 'spec.vlan', /must be <= 4094/],
  ['MacvlanNet unknown mode', mvn({ mode: 'l2' }), 'spec.mode', /must be one of bridge, private, vepa, passthru/],
  ['MacvlanNet gateway outside subnet', mvn({ gateway: '198.19.201.1' }), 'spec.gateway', /not inside subnet/],
  ['MacvlanNet gateway = broadcast', mvn({ gateway: '198.19.200.255' }), 'spec.gateway', /broadcast/],
  ['MacvlanNet ipRange outside subnet', mvn({ ipRange: '198.19.0.0/16' }), 'spec.ipRange', /not inside subnet/],
  ['MacvlanNet exclude outside subnet', mvn({ exclude: ['198.19.200.10/31', '10.0.0.0/31'] }), 'spec.exclude[1]', /not inside subnet/],
  ['MacvlanNet exclude host bits', mvn({ exclude: ['198.19.200.11/31'] }), 'spec.exclude[0]', /host bits/],
  ['MacvlanNet blockPrefix larger than ipRange', mvn({ ipRange: '198.19.200.128/25', blockPrefix: 24, dockerIPAM: 'blocks' }), 'spec.blockPrefix', /must be >= \/25/],
  ['MacvlanNet /29 with Docker blocks of the default /28', mvn({ subnet: '198.19.201.0/29', dockerIPAM: 'blocks' }), 'spec.blockPrefix', /must be >= \/29, the prefix of subnet 198\.19\.201\.0\/29/],
  ['MacvlanNet duplicate node override', mvn({ nodes: [{ name: 'host-1' }, { name: 'host-2' }, { name: 'host-1' }] }), 'spec.nodes[2].name', /listed twice.*spec\.nodes\[0\]/],
  ['MacvlanNet node override unknown field', mvn({ nodes: [{ name: 'host-1', vlan: 3 }] }), 'spec.nodes[0].vlan', /unknown field/],
  ['nodeSelector unknown field', cn({ nodeSelector: { matchExpressions: [] } }), 'spec.nodeSelector.matchExpressions', /unknown field/],
  ['resourceVersion not a number', { ...cn(), metadata: { name: 'default', resourceVersion: 'abc' } }, 'metadata.resourceVersion', /decimal etcd revision/],
];

describe('validateObject', () => {
  it.each(good)('accepts %s', (_, raw) => {
    const r = validateObject(raw);
    expect(r.issues).toEqual([]);
    expect(r.object).toBeDefined();
    expect((r.object as Raw).status).toBeUndefined();
  });

  it('says .inf and .nan as YAML writes them, not "a Infinity"', () => {
    const msg = (v: number) => validateObject({ apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: { name: 'a' }, spec: { cidr: '10.0.0.0/16', hostPrefix: v } }).issues[0]?.message;
    expect(msg(Infinity)).toBe('must be a finite number, not .inf');
    expect(msg(-Infinity)).toBe('must be a finite number, not -.inf');
    expect(msg(NaN)).toBe('must be a finite number, not .nan');
  });

  it.each(bad)('refuses %s', (_, raw, path, why) => {
    const r = validateObject(raw);
    expect(r.object).toBeUndefined();
    const paths = r.issues.map((i) => formatPath(i.path));
    expect(paths).toContain(path);
    expect(r.issues.find((i) => formatPath(i.path) === path)!.message).toMatch(why);
  });

  it.each(['bridge', 'host', 'none', 'default'])('refuses Docker\'s predefined network %s as spec.dockerNetwork', (name) => {
    for (const raw of [cn({ dockerNetwork: name }), mvn({ dockerNetwork: name })]) {
      const r = validateObject(raw);
      expect(r.object).toBeUndefined();
      expect(r.issues.find((i) => formatPath(i.path) === 'spec.dockerNetwork')?.message).toMatch(/Docker's predefined networks/);
    }
  });

  it.each(['bridge', 'host', 'none', 'default'])('refuses a ClusterNetwork or MacvlanNet named %s without spec.dockerNetwork, at metadata.name', (name) => {
    for (const raw of [cn({ dockerNetwork: undefined }, name), mvn({}, name)]) {
      const r = validateObject(JSON.parse(JSON.stringify(raw)));
      expect(r.object).toBeUndefined();
      expect(r.issues.map((i) => formatPath(i.path))).toEqual(['metadata.name']);
      expect(r.issues[0].message).toBe(`also names the Docker network on every host when spec.dockerNetwork is not set, and "${name}" is one of Docker's predefined networks (bridge, host, none, default); set spec.dockerNetwork to another name`);
    }
    // named otherwise on Docker, the same names are fine
    expect(validateObject(cn({ dockerNetwork: 'net1' }, name)).issues).toEqual([]);
    expect(validateObject(mvn({ dockerNetwork: 'lan' }, name)).issues).toEqual([]);
  });

  it.each(['127.1.0.0/24', '169.254.10.0/24', '224.0.1.0/24', '0.0.0.0/24', '240.0.0.0/24'])('refuses a MacvlanNet subnet outside unicast space (%s)', (subnet) => {
    const r = validateObject(mvn({ subnet }));
    expect(r.object).toBeUndefined();
    expect(r.issues.find((i) => formatPath(i.path) === 'spec.subnet')?.message).toMatch(/overlaps \S+, which is not unicast address space$/);
  });

  it('applies defaults so that stored objects compare equal to re-applied ones', () => {
    const r = validateObject(mvn());
    expect(r.object!.spec).toMatchObject({ mode: 'bridge', promiscuous: true, hostShim: true, blockPrefix: 28 });
    expect(validateObject(cn()).object!.spec).toMatchObject({ bridgePrefix: 'br', masquerade: true });
    expect(validateObject(without(node(), 'spec')).object!.spec).toEqual({});
  });

  it('names a wrong apiVersion once', () => {
    const r = validateObject({ ...cn(), apiVersion: 'xnet.io/v1' });
    expect(r.issues.map((i) => `${formatPath(i.path)}: ${i.message}`)).toEqual(['apiVersion: must be xnet.io/v1alpha1, got "xnet.io/v1"']);
  });

  it('names one bound per field: the schema\'s, not the safe-integer limit beside it; an empty string as empty', () => {
    const messages = (o: Raw) => validateObject(o).issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    expect(messages(cn({ hostPrefix: 1e100 }))).toEqual(['spec.hostPrefix: must be <= 30']);
    expect(messages(cn({ hostPrefix: -1e100, mtu: 1e20 }))).toEqual(['spec.hostPrefix: must be >= 8', 'spec.mtu: must be <= 65535']);
    expect(messages(nic({ container: '' }))).toEqual(['spec.container: must not be empty']);
    // a string that is not empty still gets its pattern's message
    expect(messages(nic({ container: '-x' }))).toEqual([expect.stringMatching(/^spec\.container: must be a Docker container name or id/)]);
  });

  it('says a misspelled required field once, at the misspelled key, not again as the field missing', () => {
    const messages = (o: Raw) => validateObject(o).issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    const { cidr, ...rest } = cn().spec as Raw;
    expect(messages({ ...cn(), spec: { ...rest, cdir: cidr } })).toEqual([expect.stringMatching(/^spec\.cdir: unknown field \(did you mean "cidr"\?\)/)]);
    // a key close to a field that is there is not that field misspelled: the missing one is still said
    expect(messages({ ...cn(), spec: { ...rest, hostPrefx: 24 } }).sort()).toEqual([
      'spec.cidr: is required (string)',
      expect.stringMatching(/^spec\.hostPrefx: unknown field \(did you mean "hostPrefix"\?\)/),
    ]);
    // nothing close: both said
    expect(messages({ ...cn(), spec: { ...rest, zzzz: 1 } }).sort()).toEqual(['spec.cidr: is required (string)', expect.stringMatching(/^spec\.zzzz: unknown field/)]);
  });

  it('reports every problem of a document, not just the first', () => {
    const r = validateObject(nic({ ifName: 'x'.repeat(20), ip: 'nope', extra: true }));
    expect(r.issues.map((i) => formatPath(i.path)).sort()).toEqual(['spec.extra', 'spec.ifName', 'spec.ip']);
  });

  it('reports a HostSubnet\'s bridge that is a host link together with its other problems', () => {
    const r = validateObject(hs({ subnet: '10.76.1.0/24', gateway: 'nope', bridge: 'docker0', extra: true }));
    expect(r.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).sort()).toEqual([
      'spec.bridge: "docker0" is a host interface xnet does not own; choose another bridge name',
      expect.stringMatching(/^spec\.extra: unknown field/),
      expect.stringMatching(/^spec\.gateway: must be an IPv4 address/),
    ]);
  });
});

const ok = (raw: Raw) => validateObject(raw).object! as AnyObject;
const withStatus = (o: AnyObject, status: Raw) => ({ ...o, status }) as AnyObject;

describe('duplicateIssues', () => {
  it('refuses the same kind and name twice in one apply', () => {
    const issues = duplicateIssues([ok(cn()), ok(node()), ok(cn({ hostPrefix: 26 }))]);
    expect(issues).toEqual([expect.objectContaining({ index: 2, path: ['metadata', 'name'] })]);
    expect(issues[0].message).toBe('ClusterNetwork "default" is already defined at object 1; keep one');
  });
  it('allows the same name in different kinds', () => {
    expect(duplicateIssues([ok(cn({}, 'x')), ok(mvn({}, 'x'))])).toEqual([]);
  });
});

describe('crossObjectIssues', () => {
  const cases: [string, AnyObject[], AnyObject[], number, string, RegExp][] = [
    ['ClusterNetwork overlapping a stored ClusterNetwork', [ok(cn({ cidr: '10.76.128.0/17' }, 'b'))], [ok(cn())], 0, 'spec.cidr', /overlaps ClusterNetwork "default" \(10\.76\.0\.0\/16\)/],
    ['MacvlanNet overlapping a ClusterNetwork in the same batch', [ok(cn()), ok(mvn({ subnet: '10.76.5.0/24' }))], [], 1, 'spec.subnet', /overlaps ClusterNetwork "default"/],
    ['ClusterNetwork overlapping a stored MacvlanNet', [ok(cn({ cidr: '198.19.0.0/16', hostPrefix: 24 }, 'c'))], [ok(mvn())], 0, 'spec.cidr', /overlaps MacvlanNet "macvlan200"/],
    ['HostSubnet overlapping another HostSubnet', [ok(hs({ subnet: '10.76.1.0/24', node: 'host-2' }, 'x'))], [ok(cn()), ok(hs({ subnet: '10.76.1.0/24' }))], 0, 'spec.subnet', /overlaps HostSubnet "default-host-1"/],
    ['HostSubnet overlapping an allocated one (status)', [ok(hs({ subnet: '10.76.1.0/25', node: 'host-2' }, 'x'))], [withStatus(ok(hs()), { subnet: '10.76.1.0/24' })], 0, 'spec.subnet', /overlaps HostSubnet "default-host-1" \(10\.76\.1\.0\/24\)/],
    ['a second HostSubnet of a node on one ClusterNetwork (stored first)', [ok(hs({ subnet: '10.76.9.0/24' }, 'second'))], [ok(cn()), ok(hs())], 0, 'spec.node', /node host-1 already has HostSubnet "default-host-1" on ClusterNetwork "default" \(one per node and ClusterNetwork: its Docker network\); edit that one, or delete it first/],
    ['a second HostSubnet of a node on one ClusterNetwork (same batch)', [ok(cn()), ok(hs()), ok(hs({}, 'second'))], [], 2, 'spec.node', /already has HostSubnet "default-host-1"/],
    // an edit of a HostSubnet or MacvlanNet that takes addresses NICs hold (validate-stranded-nics.ts)
    ['dockerRange edited over a pinned NIC address', [ok(hs({ subnet: '10.76.1.0/24', dockerRange: '10.76.1.0/25' }))], [ok(cn()), ok(hs({ subnet: '10.76.1.0/24' })), ok(nic({ ip: '10.76.1.84' }))], 0, 'spec.dockerRange', /leaves the pinned address of ContainerNic "test-eth1" \(spec\.ip 10\.76\.1\.84\) out of what HostSubnet "default-host-1" hands out, so the NIC would lose it \(OutOfRange\)/],
    ['gateway edited onto an allocated NIC address', [ok(hs({ subnet: '10.76.1.0/24', gateway: '10.76.1.2' }))], [ok(cn()), ok(hs({ subnet: '10.76.1.0/24' })), withStatus(ok(nic()), { ip: '10.76.1.2' })], 0, 'spec.gateway', /the new gateway is the address of ContainerNic "test-eth1" \(status\.ip 10\.76\.1\.2\)/],
    ['subnet moved away from a pinned NIC address', [ok(hs({ subnet: '10.76.4.0/24' }))], [ok(cn()), ok(hs({ subnet: '10.76.1.0/24' })), ok(nic({ ip: '10.76.1.84' }))], 0, 'spec.subnet', /pinned address of ContainerNic "test-eth1"/],
    ['MacvlanNet exclude edited over a pinned NIC address', [ok(mvn({ ipRange: '198.19.200.128/25', exclude: ['198.19.200.150/32'] }))], [ok(mvn({ ipRange: '198.19.200.128/25' })), ok(nic({ ip: '198.19.200.150', network: { macvlanNet: 'macvlan200' } }))], 0, 'spec.exclude[0]', /pinned address of ContainerNic "test-eth1" \(spec\.ip 198\.19\.200\.150\) out of what MacvlanNet "macvlan200" hands out/],
    ['MacvlanNet ipRange shrunk off a pinned NIC address', [ok(mvn({ ipRange: '198.19.200.192/26' }))], [ok(mvn({ ipRange: '198.19.200.128/25' })), ok(nic({ ip: '198.19.200.150', network: { macvlanNet: 'macvlan200' } }))], 0, 'spec.ipRange', /pinned address/],
    // a container keeps its address outside the range after an edit (status.nodes[].outsideRange): the claim stays and the shim routes it (validate-kept-outside.ts)
    ['MacvlanNet gateway edited onto an address a container keeps outside the range', [ok(mvn({ ipRange: '198.19.200.240/28', gateway: '198.19.200.130' }))], [withStatus(ok(mvn({ ipRange: '198.19.200.240/28' })), { nodes: [{ name: 'host-1', outsideRange: ['198.19.200.130'] }] })], 0, 'spec.gateway', /the new gateway 198\.19\.200\.130 is the address a container on node host-1 keeps outside the range of MacvlanNet "macvlan200" \(status\.nodes\[\]\.outsideRange; its claim stays until the container is removed\); remove that container first, or choose another gateway/],
    ['MacvlanNet subnet edited so an address a container keeps outside the range is its broadcast address', [ok(mvn({ subnet: '198.19.200.0/25', ipRange: '198.19.200.64/26' }))], [withStatus(ok(mvn({ ipRange: '198.19.200.64/26' })), { nodes: [{ name: 'host-1', outsideRange: ['198.19.200.127'] }] })], 0, 'spec.subnet', /198\.19\.200\.127 would be the broadcast address of 198\.19\.200\.0\/25, and a container on node host-1 keeps it/],
    ['a MAC another NIC has on the same node\'s bridge', [ok(nic({ mac: '02:00:00:00:00:AA', ifName: 'eth2' }, 'b'))], [ok(nic({ mac: '02:00:00:00:00:aa', container: 'other' }, 'a'))], 0, 'spec.mac', /02:00:00:00:00:AA is already the MAC of ContainerNic "a" on ClusterNetwork "default" on node host-1 \(one L2 segment\)/],
    ['a MAC another NIC has on the same MacvlanNet, on another node', [ok(nic({ mac: '02:00:00:00:00:aa', network: { macvlanNet: 'm' } }, 'a')), ok(nic({ mac: '02:00:00:00:00:aa', node: 'host-2', network: { macvlanNet: 'm' } }, 'b'))], [], 1, 'spec.mac', /MacvlanNet "m"/],
    ['a MacvlanNet on the parent another one uses (Docker: one macvlan network per parent)', [ok(mvn({ subnet: '198.19.201.0/24', parent: 'eth0' }, 'second'))], [ok(mvn({ parent: 'eth0' }))], 0, 'spec.parent', /MacvlanNet "macvlan200" already uses parent eth0 on the nodes both select; Docker makes one macvlan network per parent interface/],
    ['two MacvlanNets on each node\'s own interface, no VLAN', [ok(mvn()), ok(mvn({ subnet: '198.19.201.0/24' }, 'second'))], [], 1, 'metadata.name', /already uses parent <the node's interface>/],
    ['HostSubnet outside its ClusterNetwork', [ok(hs({ subnet: '10.77.1.0/24' }))], [ok(cn())], 0, 'spec.subnet', /not inside ClusterNetwork "default"/],
    ['static IP outside its ClusterNetwork', [ok(nic({ ip: '10.1.1.5' }))], [ok(cn())], 0, 'spec.ip', /outside ClusterNetwork "default"/],
    ['static IP in the reserved range', [ok(nic({ ip: '10.76.0.5' }))], [ok(cn({ reserved: ['10.76.0.0/24'] }))], 0, 'spec.ip', /reserved range 10\.76\.0\.0\/24/],
    ['static IP outside the node\'s subnet', [ok(nic({ ip: '10.76.2.5' }))], [ok(cn()), withStatus(ok(hs()), { subnet: '10.76.1.0/24' })], 0, 'spec.ip', /outside node host-1's subnet 10\.76\.1\.0\/24/],
    ['static IP = the host subnet gateway', [ok(nic({ ip: '10.76.1.1' }))], [ok(cn()), ok(hs({ subnet: '10.76.1.0/24', gateway: '10.76.1.1' }))], 0, 'spec.ip', /gateway/],
    ['static IP outside its MacvlanNet', [ok(nic({ ip: '198.19.201.5', network: { macvlanNet: 'macvlan200' } }))], [ok(mvn())], 0, 'spec.ip', /outside MacvlanNet "macvlan200"/],
    ['static IP excluded in the MacvlanNet', [ok(nic({ ip: '198.19.200.11', network: { macvlanNet: 'macvlan200' } }))], [ok(mvn({ exclude: ['198.19.200.10/31'] }))], 0, 'spec.ip', /exclude range/],
    ['static IP = MacvlanNet broadcast', [ok(nic({ ip: '198.19.200.255', network: { macvlanNet: 'macvlan200' } }))], [ok(mvn())], 0, 'spec.ip', /broadcast/],
    ['static IP in the host subnet\'s dockerRange', [ok(nic({ ip: '10.76.1.200' }))], [ok(cn()), ok(hs({ subnet: '10.76.1.0/24', dockerRange: '10.76.1.128/25' }))], 0, 'spec.ip', /dockerRange of HostSubnet "default-host-1"/],
    // a HostSubnet applied without gateway or dockerRange (in the same batch, before the controller filled them in): the ones it will get
    ['static IP = the default gateway of a HostSubnet that sets none', [ok(hs({ subnet: '10.76.1.0/24' })), ok(nic({ ip: '10.76.1.1' }))], [ok(cn())], 1, 'spec.ip', /10\.76\.1\.1 is the gateway of HostSubnet "default-host-1" \(its first address: it sets no gateway\)/],
    ['static IP in the default dockerRange of a HostSubnet that sets none', [ok(hs({ subnet: '10.76.1.0/24' })), ok(nic({ ip: '10.76.1.130' }))], [ok(cn())], 1, 'spec.ip', /in 10\.76\.1\.128\/25, the dockerRange of HostSubnet "default-host-1" .* \(its upper half: it sets no dockerRange\)/],
    ['static IP in a node\'s Docker block of the MacvlanNet', [ok(nic({ ip: '198.19.200.130', network: { macvlanNet: 'macvlan200' } }))], [withStatus(ok(mvn()), { nodes: [{ name: 'host-2', dockerRange: '198.19.200.128/28' }] })], 0, 'spec.ip', /node host-2's block/],
    ['static IP = a host shim address', [ok(nic({ ip: '198.19.200.254', network: { macvlanNet: 'macvlan200' } }))], [withStatus(ok(mvn()), { nodes: [{ name: 'host-1', shimAddress: '198.19.200.254/32' }] })], 0, 'spec.ip', /host shim address/],
    ['static IP claimed for a node\'s IPAM plugin, and what to do', [ok(nic({ ip: '198.19.200.129', network: { macvlanNet: 'macvlan200' } }))], [withStatus(ok(mvn()), { nodes: [{ name: 'host-1', addresses: ['198.19.200.129'] }] })], 0, 'spec.ip', /claimed for node host-1's Docker IPAM plugin .*; pick another address or leave ip unset to have one allocated$/],
    ['static IP outside its ClusterNetwork says what to do', [ok(nic({ ip: '10.1.1.5' }))], [ok(cn())], 0, 'spec.ip', /outside ClusterNetwork "default" \(10\.76\.0\.0\/16\); pick another address or leave ip unset to have one allocated$/],
    ['static IP that answered an ARP probe', [ok(nic({ ip: '198.19.200.140', network: { macvlanNet: 'macvlan200' } }))], [withStatus(ok(mvn()), { external: ['198.19.200.140'] })], 0, 'spec.ip', /answered an ARP probe/],
    ['static IP taken by a stored NIC\'s spec.ip', [ok(nic({ ip: '10.76.1.84', ifName: 'eth2' }, 'b'))], [ok(cn()), ok(nic({ ip: '10.76.1.84' }, 'a'))], 0, 'spec.ip', /already used by ContainerNic "a" \(its spec\.ip\)/],
    ['static IP taken by an allocated status.ip', [ok(nic({ ip: '10.76.1.84', ifName: 'eth2' }, 'b'))], [ok(cn()), withStatus(ok(nic({}, 'a')), { ip: '10.76.1.84' })], 0, 'spec.ip', /its status\.ip/],
    ['two NICs in one batch with one IP', [ok(cn()), ok(nic({ ip: '10.76.1.84' }, 'a')), ok(nic({ ip: '10.76.1.84', container: 'other' }, 'b'))], [], 2, 'spec.ip', /already used by ContainerNic "a"/],
    ['a Node address on loopback', [ok(node({ address: '127.0.0.2' }))], [], 0, 'spec.address', /127\.0\.0\.2 is a loopback address/],
    ['a Node address inside a ClusterNetwork', [ok(node({ address: '10.76.3.4' }))], [ok(cn())], 0, 'spec.address', /inside ClusterNetwork "default" \(10\.76\.0\.0\/16\), whose addresses xnet hands out/],
    ['a Node address a MacvlanNet applied with it hands out', [ok(mvn()), ok(node({ address: '198.19.200.7' }))], [], 1, 'spec.address', /198\.19\.200\.7 is one of the addresses MacvlanNet "macvlan200" hands out \(198\.19\.200\.0\/24\); a host's own address belongs in its spec\.exclude/],
    ['a Node address = another Node\'s spec.address', [ok(node({ address: '198.18.0.12' }))], [ok(node({ address: '198.18.0.12' }, { name: 'host-2' }))], 0, 'spec.address', /already the address of Node "host-2"/],
    ['two Nodes in one batch with one address', [ok(node({ address: '198.18.0.12' })), ok(node({ address: '198.18.0.12' }, { name: 'host-2' }))], [], 1, 'spec.address', /already the address of Node "host-1"/],
    ['a NIC whose ifName a stored NIC has in the same container', [ok(nic({}, 'b'))], [ok(nic({}, 'a'))], 0, 'spec.ifName', /eth1 is already the interface of ContainerNic "a" in container test on node host-1/],
    ['two NICs in one batch with one ifName in one container', [ok(nic({}, 'a')), ok(nic({ network: { macvlanNet: 'm' } }, 'b'))], [], 1, 'spec.ifName', /ContainerNic "a"/],
    ['a second default-route NIC in a container with a stored one', [ok(nic({ defaultRoute: true, ifName: 'eth2' }, 'b'))], [ok(nic({ defaultRoute: true }, 'a'))], 0, 'spec.defaultRoute', /ContainerNic "a" is already the default route of container test on node host-1/],
    ['two default-route NICs of one container in one batch', [ok(nic({ defaultRoute: true }, 'a')), ok(nic({ defaultRoute: true, ifName: 'eth2' }, 'b'))], [], 1, 'spec.defaultRoute', /only one NIC of a container may set defaultRoute/],
    ['a ClusterNetwork over a stored Node\'s spec.address (the hosts\' underlay)', [ok(cn({ cidr: '198.18.0.0/16' }, 'under'))], [ok(node({ address: '198.18.0.11' }))], 0, 'spec.cidr', /198\.18\.0\.0\/16 holds 198\.18\.0\.11, the spec\.address of Node "host-1"/],
    ['a MacvlanNet that would hand out a stored Node\'s spec.address', [ok(mvn({ ipRange: '198.19.200.0/25' }))], [ok(node({ address: '198.19.200.7' }))], 0, 'spec.ipRange', /hand out 198\.19\.200\.7, the spec\.address of Node "host-1"; a host's own address belongs in spec\.exclude/],
    ['a ClusterNetwork over the address a stored Node without spec.address reported (its controller status)', [ok(cn({ cidr: '172.16.0.0/12' }, 'wide'))], [withStatus(ok(node()), { address: '172.20.1.3' })], 0, 'spec.cidr', /172\.16\.0\.0\/12 holds 172\.20\.1\.3, the address Node "host-1" reported \(its status\.address, which the controller accepted\)/],
    ['a MacvlanNet that would hand out the address a stored Node reported', [ok(mvn({ ipRange: '198.19.200.0/25' }))], [withStatus(ok(node()), { address: '198.19.200.7' })], 0, 'spec.ipRange', /hand out 198\.19\.200\.7, the address Node "host-1" reported \(its status\.address, which the controller accepted\); a host's own address belongs in spec\.exclude/],
    ['a ClusterNetwork applied with a Node without spec.address over the address it reported', [ok(node()), ok(cn({ cidr: '172.16.0.0/12' }, 'wide'))], [withStatus(ok(node()), { address: '172.20.1.3' })], 1, 'spec.cidr', /holds 172\.20\.1\.3, the address Node "host-1" reported/],
    ['a stored ClusterNetwork\'s hostPrefix changed', [ok(cn({ hostPrefix: 25 }))], [ok(cn())], 0, 'spec.hostPrefix', /is set once, when the ClusterNetwork is created \(stored: 24\)/],
    ['a stored MacvlanNet\'s dockerIPAM changed (its containers\' addresses were claimed under the other mode)', [ok(mvn({ dockerIPAM: 'blocks' }))], [ok(mvn())], 0, 'spec.dockerIPAM', /is set once, when the MacvlanNet is created \(stored: "xnet"\); to change it, create a new MacvlanNet/],
  ];
  it.each(cases)('refuses %s', (_, batch, existing, index, path, why) => {
    const issues = crossObjectIssues(batch, existing);
    expect(issues).toHaveLength(1);
    expect(issues[0].index).toBe(index);
    expect(formatPath(issues[0].path)).toBe(path);
    expect(issues[0].message).toMatch(why);
  });

  it('accepts a MacvlanNet edit that leaves addresses kept outside the range off its gateway and edges, and one whose stored spec had it so already', () => {
    const kept = (spec: Raw) => withStatus(ok(mvn(spec)), { nodes: [{ name: 'host-1', outsideRange: ['198.19.200.130', 'nope'] }] });
    expect(crossObjectIssues([ok(mvn({ ipRange: '198.19.200.240/28', gateway: '198.19.200.254' }))], [kept({ ipRange: '198.19.200.240/28' })])).toEqual([]);
    // written around xctl: re-applying it is not what put the gateway there
    expect(crossObjectIssues([ok(mvn({ ipRange: '198.19.200.240/28', gateway: '198.19.200.130' }))], [kept({ ipRange: '198.19.200.240/28', gateway: '198.19.200.130' })])).toEqual([]);
  });

  it('accepts one ifName in other containers or on other nodes, and the name of a NIC being deleted', () => {
    const stored = [ok(nic({}, 'a')), ok(nic({ node: 'host-2' }, 'b'))];
    expect(crossObjectIssues([ok(nic({ container: 'other' }, 'c'))], stored)).toEqual([]);
    const deleting = { ...ok(nic({}, 'a')), metadata: { name: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' } } as AnyObject;
    expect(crossObjectIssues([ok(nic({}, 'c'))], [deleting])).toEqual([]);
  });
  it('accepts a HostSubnet or MacvlanNet edit that takes no address a NIC holds, and one that moves only allocated NICs', () => {
    const pinned = ok(nic({ ip: '10.76.1.84' }));
    const allocated = withStatus(ok(nic({}, 'b')), { ip: '10.76.1.3' });
    const stored = [ok(cn()), ok(hs({ subnet: '10.76.1.0/24' })), pinned, allocated];
    // Docker's range shrunk, the gateway moved to a free address: nothing held is taken
    expect(crossObjectIssues([ok(hs({ subnet: '10.76.1.0/24', dockerRange: '10.76.1.192/26', gateway: '10.76.1.100' }))], stored)).toEqual([]);
    // over an allocated NIC only: the controller gives it a new address (docs/api.md)
    expect(crossObjectIssues([ok(hs({ subnet: '10.76.1.0/24', dockerRange: '10.76.1.0/30' }))], stored)).toEqual([]);
    // a pinned address that was already outside (written around xctl) is not this edit's doing
    expect(crossObjectIssues([ok(mvn({ ipRange: '198.19.200.192/26' }))], [ok(mvn({ ipRange: '198.19.200.128/26' })), ok(nic({ ip: '198.19.200.10', network: { macvlanNet: 'macvlan200' } }))])).toEqual([]);
  });
  it('accepts one MAC on different segments (other nodes of a ClusterNetwork, other networks) and a re-applied NIC', () => {
    const a = ok(nic({ mac: '02:00:00:00:00:aa' }, 'a'));
    expect(crossObjectIssues([ok(nic({ mac: '02:00:00:00:00:aa', node: 'host-2' }, 'b')), ok(nic({ mac: '02:00:00:00:00:aa', ifName: 'eth2', network: { macvlanNet: 'm' } }, 'c'))], [a])).toEqual([]);
    expect(crossObjectIssues([a], [a])).toEqual([]);
  });
  it('accepts MacvlanNets on one parent with other VLANs, or whose nodeSelectors cannot meet', () => {
    const a = ok(mvn({ parent: 'eth0', nodeSelector: { matchLabels: { rack: 'r1' } } }));
    expect(crossObjectIssues([ok(mvn({ subnet: '198.19.201.0/24', parent: 'eth0', vlan: 201 }, 'b'))], [a])).toEqual([]);
    expect(crossObjectIssues([ok(mvn({ subnet: '198.19.202.0/24', parent: 'eth0', nodeSelector: { matchLabels: { rack: 'r2' } } }, 'c'))], [a])).toEqual([]);
    expect(crossObjectIssues([a], [a])).toEqual([]);
  });
  it('lets a pair stored before the newer rules be edited: two HostSubnets of a node and network, two MacvlanNets on one parent', () => {
    const a = ok(hs({ subnet: '10.76.1.0/24' }, 'a'));
    const b = ok(hs({ subnet: '10.76.9.0/24' }, 'b'));
    expect(crossObjectIssues([ok(hs({ subnet: '10.76.1.0/24', icc: false }, 'a'))], [ok(cn()), a, b])).toEqual([]);
    // b stored on host-3, then moved onto host-1, where a is: a new pair, refused
    const bElsewhere = ok(hs({ subnet: '10.76.9.0/24', node: 'host-3' }, 'b'));
    expect(crossObjectIssues([b], [ok(cn()), a, bElsewhere]).map((i) => formatPath(i.path))).toEqual(['spec.node']);
    const m1 = ok(mvn({ parent: 'eth0' }));
    const m2 = ok(mvn({ subnet: '198.19.201.0/24', parent: 'eth0' }, 'second'));
    expect(crossObjectIssues([ok(mvn({ subnet: '198.19.201.0/24', parent: 'eth0', mode: 'private' }, 'second'))], [m1, m2])).toEqual([]);
  });
  it('leaves a MacvlanNet with per-node parents to the agents, and a NIC being deleted out of edits that would strand it', () => {
    const perNode = ok(mvn({ subnet: '198.19.201.0/24', nodes: [{ name: 'host-1', parent: 'eth1' }, { name: 'host-2', parent: 'eth1' }] }, 'b'));
    expect(crossObjectIssues([perNode], [ok(mvn())])).toEqual([]);
    const leaving = { ...ok(nic({ ip: '10.76.1.84' })), metadata: { name: 'test-eth1', deletionTimestamp: '2026-12-04T00:00:00Z', finalizers: ['xnet.io/address-in-use'] } } as AnyObject;
    expect(crossObjectIssues([ok(hs({ subnet: '10.76.1.0/24', dockerRange: '10.76.1.0/25' }))], [ok(cn()), ok(hs({ subnet: '10.76.1.0/24' })), leaving])).toEqual([]);
  });
  it('accepts one default-route NIC per container, and a re-applied one', () => {
    const a = ok(nic({ defaultRoute: true }, 'a'));
    expect(crossObjectIssues([ok(nic({ defaultRoute: true, container: 'other' }, 'c')), ok(nic({ ifName: 'eth2' }, 'd'))], [a])).toEqual([]);
    expect(crossObjectIssues([a], [a])).toEqual([]);
  });
  it('accepts a re-applied object: it does not overlap or collide with itself', () => {
    const a = ok(nic({ ip: '10.76.1.84' }, 'a'));
    expect(crossObjectIssues([ok(cn()), a], [ok(cn()), withStatus(a, { ip: '10.76.1.84' })])).toEqual([]);
  });
  it('accepts the same IP on different networks and references to networks not created yet', () => {
    expect(crossObjectIssues(
      [ok(nic({ ip: '10.76.1.84' }, 'a')), ok(nic({ ip: '10.76.1.84', ifName: 'eth2', network: { clusterNetwork: 'other' } }, 'b')), ok(nic({ ip: '1.2.3.4', ifName: 'eth3', network: { macvlanNet: 'later' } }, 'c'))],
      [ok(cn())],
    )).toEqual([]);
  });
  it('accepts both examples together', () => {
    const batch = [ok(cn({ reserved: ['10.76.0.0/24'] })), ok(hs({ subnet: '10.76.1.0/24', gateway: '10.76.1.1' })), ok(nic({ ip: '10.76.1.84' })), ok(mvn())];
    expect(crossObjectIssues(batch, [])).toEqual([]);
  });
  it('accepts a hostPrefix on a new ClusterNetwork and the stored one unchanged', () => {
    expect(crossObjectIssues([ok(cn({ cidr: '10.77.0.0/16', hostPrefix: 26 }, 'new')), ok(cn({ masquerade: false }))], [ok(cn())])).toEqual([]);
  });
  it('accepts a Node address on a MacvlanNet\'s LAN that the MacvlanNet excludes, or outside its ipRange', () => {
    expect(crossObjectIssues([ok(node({ address: '198.19.200.7' }))], [ok(mvn({ exclude: ['198.19.200.0/28'] }))])).toEqual([]);
    expect(crossObjectIssues([ok(node({ address: '198.19.200.7' }))], [ok(mvn({ ipRange: '198.19.200.128/25' }))])).toEqual([]);
  });
  it('does not let what a node reported block an admin\'s spec.address', () => {
    // host-2's agent reported host-1's address (its merged status shows it): an admin pins host-1 to it
    const stored = [ok(node()), withStatus(ok(node({}, { name: 'host-2' })), { address: '198.18.0.11' })];
    expect(crossObjectIssues([ok(node({ address: '198.18.0.11' }))], stored)).toEqual([]);
  });
  it('reads only what a batch needs: a batch of Nodes reads specs, no status', () => {
    const of = (batch: AnyObject[]) => storedKindsToCheck(batch).map((k) => `${k.kind}${k.withStatus ? '+status' : ''}`).sort();
    expect(of([ok(node())])).toEqual(['ClusterNetwork', 'MacvlanNet', 'Node']);
    expect(of([ok(nic())])).toEqual(['ClusterNetwork+status', 'ContainerNic+status', 'HostSubnet+status', 'MacvlanNet+status']);
    expect(of([ok(nic()), ok(node())])).toEqual(['ClusterNetwork+status', 'ContainerNic+status', 'HostSubnet+status', 'MacvlanNet+status', 'Node']);
  });
  it('accepts a MacvlanNet that excludes a Node\'s address, and a re-applied pool that already held one', () => {
    expect(crossObjectIssues([ok(mvn({ exclude: ['198.19.200.7/32'] }))], [ok(node({ address: '198.19.200.7' }))])).toEqual([]);
    const under = ok(cn({ cidr: '198.18.0.0/16' }, 'under'));
    expect(crossObjectIssues([ok(cn({ cidr: '198.18.0.0/16', masquerade: false }, 'under'))], [under, ok(node({ address: '198.18.0.11' }))])).toEqual([]);
  });
  it('reads the Nodes with the controller\'s status alone for a batch of pools (the address it accepted, not a node\'s report)', () => {
    expect(storedKindsToCheck([ok(cn())]).find((k) => k.kind === 'Node')).toEqual({ kind: 'Node', withStatus: true, controllerStatusOnly: true });
    expect(storedKindsToCheck([ok(mvn()), ok(node())]).find((k) => k.kind === 'Node')).toEqual({ kind: 'Node', withStatus: true, controllerStatusOnly: true });
  });
  it('compares a Node\'s spec.address, not its status.address, when it has one', () => {
    const pinned = withStatus(ok(node({ address: '198.18.0.11' })), { address: '172.20.1.3' });
    expect(crossObjectIssues([ok(cn({ cidr: '172.16.0.0/12' }, 'wide'))], [pinned])).toEqual([]);
    expect(crossObjectIssues([ok(cn({ cidr: '198.18.0.0/16' }, 'wide'))], [pinned])[0]?.message).toMatch(/the spec\.address of Node "host-1"/);
  });
  it('skips a status.address that is not an IPv4 address', () => {
    expect(crossObjectIssues([ok(cn({ cidr: '172.16.0.0/12' }, 'wide'))], [withStatus(ok(node()), { address: 'not-an-ip' })])).toEqual([]);
  });
  it('does not blame a stored pair that already overlaps on an unrelated apply', () => {
    expect(crossObjectIssues([ok(node())], [ok(cn()), ok(cn({}, 'other'))])).toEqual([]);
  });
});
