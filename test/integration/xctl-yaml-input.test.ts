// YAML that costs too much or reads two ways, deep in an apply larger than one etcd
// transaction: refused with file, document and line, exit 2, and nothing written. YAML that
// shares an anchor between the items of a large List is applied.
import { describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';

const lab = xctlInProcess('xctl-yaml-input');

const nodeDoc = (i: number) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: node-${i}\nspec:\n  address: 198.18.${Math.floor(i / 200)}.${(i % 200) + 1}\n`;
const NODE_LINES = 6;

describe('xctl apply of YAML that reads two ways or expands too far', () => {
  it('refuses a leading-zero hostPrefix and an alias bomb among 200 documents, writing nothing', async () => {
    let bomb = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++) bomb += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
    const docs = Array.from({ length: 200 }, (_, i) => nodeDoc(i));
    docs[149] = 'apiVersion: xnet.io/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: net1\nspec:\n  cidr: 10.76.0.0/16\n  hostPrefix: 030\n';
    docs[150] = bomb;
    const f = lab.file('nodes.yaml', docs.join('---\n'));
    const rev = await lab.store.revision();
    const r = await lab.xctl(['apply', '-f', f]);
    expect(r.code).toBe(2);
    // each document before the 150th takes its lines and a ---
    const at150 = 149 * (NODE_LINES + 1) + 1;
    expect(r.err).toContain(`${f}:${at150 + 6}: document 150 (clusternetwork/net1): spec.hostPrefix: must be a number, not a string; a leading zero is ambiguous`);
    expect(r.err).toContain(`${f}:${at150 + 8 + 6}:10: document 151: the aliases up to here stand for more than 1000000 values`);
    expect(r.err).toMatch(/nothing was written\n$/);
    expect(r.out).toBe('');
    expect(await lab.store.revision()).toBe(rev);
  });

  it('applies a List of 150 Nodes that share one anchor, in the transactions they need', async () => {
    const items = Array.from({ length: 149 }, (_, i) => `- {<<: *n, metadata: {name: shared-${i + 1}, labels: {rack: r1}}}`);
    const f = lab.file('list.yaml', `apiVersion: v1\nkind: List\nitems:\n- &n {apiVersion: xnet.io/v1alpha1, kind: Node, metadata: {name: shared-0}, spec: {}}\n${items.join('\n')}\n`);
    const r = await lab.xctl(['apply', '-f', f]);
    expect(r.err).toContain('150 objects applied in 2 transactions: 150 created, 0 configured, 0 unchanged');
    expect(r.code).toBe(0);
    const r2 = await lab.xctl(['get', 'nodes', '-l', 'rack=r1', '-o', 'name']);
    expect(r2.out.trim().split('\n')).toHaveLength(149);
  });
});
