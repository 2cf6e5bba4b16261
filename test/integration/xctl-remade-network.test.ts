// xctl apply and diff of an edit Docker cannot make in place (a ClusterNetwork's masquerade or
// mtu, a HostSubnet's icc: options of each node's Docker network) say what it costs: the agent
// makes the network again only once no container is attached, and until then the HostSubnet
// reports NetworkInUse (a new-user trial changed masquerade on a live network and saw only
// "configured", then every HostSubnet not Ready). Against a real etcd, in-process through runXctl.
import { beforeAll, describe, expect, it } from 'vitest';
import { xctlInProcess, type XctlOptions } from '../harness/xctl-in-process.js';
import type { ClusterNetwork } from '../../pkg/api/index.js';

const lab = xctlInProcess('xnet-remade-network');
const xctl = (args: string[], opts?: XctlOptions) => lab.xctl(args, opts);

const V = 'apiVersion: xnet.io/v1alpha1';
const cn = (extra = '') => `${V}\nkind: ClusterNetwork\nmetadata:\n  name: apps\nspec:\n  cidr: 10.233.0.0/16\n  hostPrefix: 24\n  dockerNetwork: apps-net\n${extra}`;
const hs = (extra = '') => `${V}\nkind: HostSubnet\nmetadata:\n  name: apps-host-1\nspec:\n  node: host-1\n  clusterNetwork: apps\n${extra}`;

beforeAll(async () => {
  expect((await xctl(['apply', '-f', '-'], { stdin: [cn(), hs()].join('---\n') })).code).toBe(0);
});

const warning = (obj: string, field: string, now: string, was: string, holder: string) => `Warning: ${obj}: spec.${field} ${now} (was ${was}) is an option Docker cannot change on an existing network: ` +
  `on each node the agent makes ${holder}`;

describe('an edit that makes each node\'s Docker network again', () => {
  it('diff and apply --dry-run warn of masquerade and mtu, writing nothing', async () => {
    const edit = cn('  masquerade: false\n  mtu: 1400\n');
    const diff = await xctl(['diff', '-f', '-'], { stdin: edit });
    expect(diff.code).toBe(1);
    const lines = diff.err.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(warning('clusternetwork/apps', 'masquerade', 'false', 'true', 'the Docker network again once no container is attached'));
    expect(lines[0]).toMatch(/until then that node's HostSubnet reports NetworkInUse and keeps the old value$/);
    expect(lines[1]).toContain(warning('clusternetwork/apps', 'mtu', '1400', '1500', 'the'));
    const dry = await xctl(['apply', '--dry-run', '-f', '-'], { stdin: edit });
    expect(dry).toMatchObject({ code: 0, out: 'clusternetwork/apps configured (dry run)\n', err: diff.err });
    expect(((await lab.store.get('ClusterNetwork', 'apps')) as ClusterNetwork | undefined)?.spec.masquerade).not.toBe(false);
  });

  it('apply warns and writes; the same apply again, or an edit of another field, warns of nothing', async () => {
    const edit = cn('  masquerade: false\n');
    const r = await xctl(['apply', '-f', '-'], { stdin: edit });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(warning('clusternetwork/apps', 'masquerade', 'false', 'true', 'the'));
    expect((await lab.store.get('ClusterNetwork', 'apps'))?.spec).toMatchObject({ masquerade: false });
    expect(await xctl(['apply', '-f', '-'], { stdin: edit })).toEqual({ code: 0, out: 'clusternetwork/apps unchanged\n', err: '' });
    // spelled out at its default: the same option as the stored one, nothing to remake
    expect((await xctl(['apply', '-f', '-'], { stdin: cn('  masquerade: false\n  mtu: 1500\n') })).err).toBe('');
  });

  it('a HostSubnet\'s icc, in its own words', async () => {
    const r = await xctl(['apply', '-f', '-'], { stdin: hs('  icc: false\n') });
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(warning('hostsubnet/apps-host-1', 'icc', 'false', 'true', 'its Docker network again'));
    expect(r.err).toMatch(/until then it reports NetworkInUse and keeps the old value\n$/);
  });

  it('a HostSubnet\'s bridge, gateway and dockerRange: Docker changes none of them in place either', async () => {
    // a bridge renamed under a network with containers kept them on the old one with no word at apply (NetworkInUse after)
    const layout = (bridge: string, gateway: string, range: string) =>
      hs(`  icc: false\n  subnet: 10.233.1.0/24\n  bridge: ${bridge}\n  gateway: ${gateway}\n  dockerRange: ${range}\n`);
    // set where the stored object had none (and no controller gave it any): nothing to remake
    expect(await xctl(['apply', '-f', '-'], { stdin: layout('bra', '10.233.1.1', '10.233.1.128/25') })).toEqual({ code: 0, out: 'hostsubnet/apps-host-1 configured\n', err: '' });
    const r = await xctl(['apply', '-f', '-'], { stdin: layout('brb', '10.233.1.2', '10.233.1.192/26') });
    expect(r.code, r.err).toBe(0);
    const setting = (field: string, now: string, was: string) => `Warning: hostsubnet/apps-host-1: spec.${field} ${now} (was ${was}) is a setting Docker cannot change on an existing network: ` +
      'on each node the agent makes its Docker network again once no container is attached to it (stopped ones included); until then it reports NetworkInUse and keeps the old value';
    expect(r.err.split('\n').filter(Boolean)).toEqual([setting('bridge', 'brb', 'bra'), setting('gateway', '10.233.1.2', '10.233.1.1'), setting('dockerRange', '10.233.1.192/26', '10.233.1.128/25')]);
    expect((await xctl(['apply', '-f', '-'], { stdin: layout('brb', '10.233.1.2', '10.233.1.192/26') })).err).toBe('');
  });

  it('a HostSubnet\'s gateway or dockerRange left out goes back to the subnet\'s default; a subnet moved is said once', async () => {
    // stored now (the test before): subnet 10.233.1.0/24, gateway 10.233.1.2, dockerRange 10.233.1.192/26, bridge brb.
    // Without the two lines the controller gives it 10.233.1.1 and the upper half again: the
    // network is made again as for any other value, and apply said nothing of it.
    const setting = (field: string, now: string, was: string) => `Warning: hostsubnet/apps-host-1: spec.${field} ${now} (was ${was}) is a setting Docker cannot change on an existing network: ` +
      'on each node the agent makes its Docker network again once no container is attached to it (stopped ones included); until then it reports NetworkInUse and keeps the old value';
    const left = await xctl(['apply', '--dry-run', '-f', '-'], { stdin: hs('  icc: false\n  subnet: 10.233.1.0/24\n  bridge: brb\n') });
    expect(left.code, left.err).toBe(0);
    expect(left.err.split('\n').filter(Boolean)).toEqual([setting('gateway', '10.233.1.1', '10.233.1.2'), setting('dockerRange', '10.233.1.128/25', '10.233.1.192/26')]);
    // the subnet moved, gateway and dockerRange with it: one line, for the field the user changed
    const moved = await xctl(['apply', '--dry-run', '-f', '-'], { stdin: hs('  icc: false\n  subnet: 10.233.2.0/24\n  bridge: brb\n') });
    expect(moved.code, moved.err).toBe(0);
    expect(moved.err.split('\n').filter(Boolean)).toEqual([setting('subnet', '10.233.2.0/24', '10.233.1.0/24')]);
    // spelled out at what it has: nothing to remake
    expect((await xctl(['apply', '--dry-run', '-f', '-'], { stdin: hs('  icc: false\n  subnet: 10.233.1.0/24\n  bridge: brb\n  gateway: 10.233.1.2\n  dockerRange: 10.233.1.192/26\n') })).err).toBe('');
  });
});
