// xctl apply of a Node whose labels take it out of a ClusterNetwork's or a MacvlanNet's
// nodeSelector, or of a network whose edited nodeSelector leaves stored Nodes out, says what that takes away, as kubectl prints an API server's warnings; against a
// real etcd, in-process through runXctl: exit code, stdout, stderr, and what etcd holds.
import { beforeAll, describe, expect, it } from 'vitest';
import { xctlInProcess, type XctlOptions } from '../harness/xctl-in-process.js';

// the hooks' etcd (started before the seed below is applied) and xctl against it
const lab = xctlInProcess('xnet-node-leaving');
const xctl = (args: string[], opts?: XctlOptions) => lab.xctl(args, opts);

const V = 'apiVersion: xnet.io/v1alpha1';
const nodeDoc = (role: string) => `${V}\nkind: Node\nmetadata:\n  name: host-1\n  labels: {role: ${role}}\nspec: {}\n`;
const seed = [
  `${V}\nkind: ClusterNetwork\nmetadata:\n  name: db\nspec:\n  cidr: 10.231.0.0/16\n  hostPrefix: 24\n  nodeSelector:\n    matchLabels: {role: db}\n`,
  `${V}\nkind: ClusterNetwork\nmetadata:\n  name: all\nspec:\n  cidr: 10.232.0.0/16\n  hostPrefix: 24\n`,
  `${V}\nkind: MacvlanNet\nmetadata:\n  name: lan\nspec:\n  subnet: 198.19.9.0/24\n  nodeSelector:\n    matchLabels: {role: db}\n`,
  nodeDoc('db'),
  // what the controller would have made for host-1 on db (it marks it so)
  `${V}\nkind: HostSubnet\nmetadata:\n  name: db-host-1\n  labels: {xnet.io/managed-by: xnet-controller}\nspec:\n  node: host-1\n  clusterNetwork: db\n`,
].join('---\n');

beforeAll(async () => {
  expect((await xctl(['apply', '-f', '-'], { stdin: seed })).code).toBe(0);
});

const LEAVES = "Warning: node/host-1 no longer matches ClusterNetwork db's nodeSelector: its HostSubnet db-host-1 will be removed\n" +
  "Warning: node/host-1 no longer matches MacvlanNet lan's nodeSelector: it leaves MacvlanNet lan\n";

describe('xctl apply of a Node that leaves a nodeSelector', () => {
  it('--dry-run and diff say what the apply would take away, exit codes as ever, nothing written', async () => {
    const dry = await xctl(['apply', '--dry-run', '-f', '-'], { stdin: nodeDoc('web') });
    expect(dry).toEqual({ code: 0, out: 'node/host-1 configured (dry run)\n', err: LEAVES });
    const diff = await xctl(['diff', '-f', '-'], { stdin: nodeDoc('web') });
    expect(diff.code).toBe(1);
    expect(diff.out).toMatch(/^-\s+role: db\n\+\s+role: web$/m);
    expect(diff.err).toBe(LEAVES);
    expect((await lab.store.get('Node', 'host-1'))?.metadata.labels).toEqual({ role: 'db' });
  });

  it('says it after the Node is configured, on stderr, exit 0; nothing once it is out, nor when it joins again', async () => {
    const r = await xctl(['apply', '-f', '-'], { stdin: nodeDoc('web') });
    expect(r).toEqual({ code: 0, out: 'node/host-1 configured\n', err: LEAVES });
    expect((await lab.store.get('Node', 'host-1'))?.metadata.labels).toEqual({ role: 'web' });
    expect(await xctl(['apply', '-f', '-'], { stdin: nodeDoc('web') })).toEqual({ code: 0, out: 'node/host-1 unchanged\n', err: '' });
    expect(await xctl(['apply', '-f', '-'], { stdin: nodeDoc('db') })).toEqual({ code: 0, out: 'node/host-1 configured\n', err: '' });
  });
});

describe('xctl apply of a network whose edited nodeSelector leaves stored Nodes out', () => {
  const lanDoc = (role: string) => `${V}\nkind: MacvlanNet\nmetadata:\n  name: lan\nspec:\n  subnet: 198.19.9.0/24\n  nodeSelector:\n    matchLabels: {role: ${role}}\n`;

  it('names each Node that leaves, with no Node in the batch; nothing when the selector keeps them', async () => {
    // host-1 is role=db again (the last case above), so lan selects it
    const dry = await xctl(['apply', '--dry-run', '-f', '-'], { stdin: lanDoc('web') });
    expect(dry).toEqual({ code: 0, out: 'macvlannet/lan configured (dry run)\n', err: "Warning: node/host-1 no longer matches MacvlanNet lan's nodeSelector: it leaves MacvlanNet lan\n" });
    expect((await xctl(['apply', '-f', '-'], { stdin: lanDoc('web') })).err).toBe("Warning: node/host-1 no longer matches MacvlanNet lan's nodeSelector: it leaves MacvlanNet lan\n");
    expect(await xctl(['apply', '-f', '-'], { stdin: lanDoc('db') })).toEqual({ code: 0, out: 'macvlannet/lan configured\n', err: '' });
  });
});
