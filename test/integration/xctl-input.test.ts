// What a kubectl user feeds xctl: manifests xctl must refuse (a ClusterNetwork edit that
// strands its HostSubnets, a HostSubnet on a reserved range, two NICs with one name in one
// container) or accept (a JSON stream, null fields), and read options that must not be
// silently ignored. Each case is what the user sees (exit code, stdout, stderr) and, for
// writes, what etcd holds after. Run in-process against a real etcd.
import { describe, expect, it, onTestFinished } from 'vitest';
import { xctlInProcess, type XctlRun } from '../harness/xctl-in-process.js';
import { EventRecorder } from '../../pkg/events/recorder.js';

const lab = xctlInProcess('xctl-input');
const xctl = (args: string[], opts?: Parameters<typeof lab.xctl>[1]): Promise<XctlRun> => lab.xctl(args, opts);
const revision = () => lab.store.revision();

const V = 'apiVersion: xnet.io/v1alpha1';
const cnDoc = (name: string, cidr: string, reserved: string) =>
  `${V}\nkind: ClusterNetwork\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n  hostPrefix: 24\n  reserved: [${reserved}]\n`;
const hsDoc = (name: string, node: string, cn: string, subnet: string) =>
  `${V}\nkind: HostSubnet\nmetadata:\n  name: ${name}\nspec:\n  node: ${node}\n  clusterNetwork: ${cn}\n  subnet: ${subnet}\n`;
const nicDoc = (name: string, ifName: string) =>
  `${V}\nkind: ContainerNic\nmetadata:\n  name: ${name}\nspec:\n  node: host-1\n  container: web\n  ifName: ${ifName}\n  network: {clusterNetwork: rv-cn}\n`;
const nodeJson = (name: string) => JSON.stringify({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name }, spec: {} });

describe('a pinned HostSubnet in its ClusterNetwork\'s reserved range', () => {
  it('is refused at spec.subnet, writing nothing (reserved is "never handed out"; a static NIC ip there is refused already)', async () => {
    expect((await xctl(['apply', '-f', '-'], { stdin: cnDoc('rv-cn', '10.81.0.0/16', '10.81.0.0/24') })).code).toBe(0);
    // the NIC rule already treats the range as off limits
    const nic = await xctl(['apply', '--dry-run', '-f', '-'], { stdin: `${nicDoc('rv-nic', 'eth1')}  ip: 10.81.0.50\n` });
    expect(nic.code).toBe(2);
    expect(nic.err).toContain('reserved range 10.81.0.0/24');
    // ...but a HostSubnet pinned onto it was accepted, and the controller then allocated
    // container addresses (10.81.0.2, ...) and gave Docker a range from the reserved block
    const rev = await revision();
    const r = await xctl(['apply', '-f', '-'], { stdin: hsDoc('rv-hs', 'host-7', 'rv-cn', '10.81.0.0/24') });
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/<stdin>:8: document 1 \(hostsubnet\/rv-hs\): spec\.subnet: .*reserved/);
    expect(await revision()).toBe(rev);
  });
});

describe('a ClusterNetwork whose cidr is changed to leave its HostSubnets outside', () => {
  it('is refused at spec.cidr, writing nothing (every agent then refuses those subnets: no bridge, no peer routes)', async () => {
    const cn = (cidr: string) => `${V}\nkind: ClusterNetwork\nmetadata:\n  name: shrink-cn\nspec:\n  cidr: ${cidr}\n  hostPrefix: 24\n`;
    const made = await xctl(['apply', '-f', '-'], { stdin: `${cn('10.82.0.0/16')}---\n${hsDoc('shrink-hs', 'host-2', 'shrink-cn', '10.82.2.0/24')}` });
    expect(made.code, made.err).toBe(0);
    const rev = await revision();
    // 10.82.0.0/23 no longer holds 10.82.2.0/24; apply said "configured" and exit 0, the
    // controller kept the HostSubnet Allocated and the ClusterNetwork Ready
    const r = await xctl(['apply', '-f', '-'], { stdin: cn('10.82.0.0/23') });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<stdin>:6: document 1 \(clusternetwork\/shrink-cn\): spec\.cidr: .*shrink-hs/);
    expect(await revision()).toBe(rev);
  });

  it('is allowed when every HostSubnet stays inside; a reserved range over one is refused at that entry', async () => {
    const cn = (extra: string) => `${V}\nkind: ClusterNetwork\nmetadata:\n  name: shrink-cn\nspec:\n  cidr: 10.82.0.0/20\n  hostPrefix: 24\n${extra}`;
    const grown = await xctl(['apply', '-f', '-'], { stdin: cn('') });
    expect(grown.err).toBe('');
    expect(grown.out).toBe('clusternetwork/shrink-cn configured\n');
    const rev = await revision();
    const r = await xctl(['apply', '-f', '-'], { stdin: cn('  reserved:\n    - 10.82.0.0/24\n    - 10.82.2.128/25\n') });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<stdin>:10: document 1 \(clusternetwork\/shrink-cn\): spec\.reserved\[1\]: reserved range 10\.82\.2\.128\/25 holds HostSubnet "shrink-hs"/);
    expect(await revision()).toBe(rev);
  });
});

describe('a JSON stream (several JSON objects one after another)', () => {
  it('applies each object, as kubectl does (what `get -w -o json` and `jq -c .items[]` print)', async () => {
    const stream = `${nodeJson('js-1')}\n${nodeJson('js-2')}\n`;
    const r = await xctl(['apply', '-f', lab.file('stream.json', stream)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('node/js-1 created\nnode/js-2 created\n');
  });
});

describe('null fields, as kubectl reads them (absent)', () => {
  it('accepts labels whose entries are all commented out and an empty spec:', async () => {
    const doc = `${V}\nkind: Node\nmetadata:\n  name: null-node\n  labels:\n    # rack: r1\nspec:\n`;
    const r = await xctl(['apply', '-f', '-'], { stdin: doc });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('node/null-node created\n');
  });
});

describe('two ContainerNics with one ifName in one container', () => {
  it('are refused at the second one\'s spec.ifName (the agent can make only one; the other reports InterfaceNameTaken)', async () => {
    expect((await xctl(['apply', '-f', '-'], { stdin: nicDoc('if-a', 'eth1') })).code).toBe(0);
    const rev = await revision();
    const r = await xctl(['apply', '-f', '-'], { stdin: nicDoc('if-b', 'eth1') });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<stdin>:8: document 1 \(containernic\/if-b\): spec\.ifName: .*if-a/);
    expect(await revision()).toBe(rev);
  });
});

describe('options get does not apply', () => {
  it('are refused or honoured, not silently ignored: get events -l, get KIND --for, get events --no-headers', async () => {
    const rec = new EventRecorder({ client: lab.etcd.client(), source: { component: 'controller' } });
    // closed also when its record fails: its writes end before the worker's next file
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'ContainerNic', name: 'if-a' }, 'Normal', 'Allocated', 'address 10.81.1.2 allocated');
    await rec.close();
    const all = await xctl(['get', 'events']);
    expect(all.out).toContain('containernic/if-a');
    // events carry no labels: xctl printed every event, as if the selector matched them all
    const sel = await xctl(['get', 'events', '-l', 'no-such=label']);
    expect(sel.out).not.toContain('containernic/if-a');
    expect(sel.code).toBe(2);
    expect(sel.err).toContain('get events takes no label selector (-l)');
    // --for is get events' option: get cn --for printed every ClusterNetwork
    const forCn = await xctl(['get', 'cn', '--for', 'cn/rv-cn']);
    expect(forCn.out).toBe('');
    expect(forCn.code).toBe(2);
    const bare = await xctl(['get', 'events', '--no-headers']);
    expect(bare.code).toBe(0);
    expect(bare.out).toContain('containernic/if-a');
    expect(bare.out).not.toContain('LAST SEEN');
  });
});
