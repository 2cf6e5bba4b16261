// Model.nodeWroteReports (whether a node's agent left reports on objects: macvlan-agent.ts
// agentLost, nodes.ts desiredNodeStatus) is asked per node on every MacvlanNet round and Node
// reconcile of a node with no report about itself, e.g. 1,000 Nodes applied before their
// agents start. Looked up as a prefix, each node's first lookup after a directory came or went
// was a scan of every directory of the cache (KeyIndex.covering): at 1,000 nodes, 1,000 scans
// of thousands of directories, some seconds of the leader's event loop per round while agents join.
import { describe, expect, it } from 'vitest';
import { P, meta, modelFixture } from './model-fixture.js';

const N = 1000;
const status = (node: string, plural: string, name: string) => `${P}/registry/status/nodes/${node}/${plural}/${name}`;

describe('Model.nodeWroteReports', () => {
  it('says whether the node has any report, following them as they come and go', () => {
    const { model, seed, drop } = modelFixture();
    expect(model.nodeWroteReports('a')).toBe(false);
    seed(status('a', 'macvlannets', 'lan'), { ready: true });
    expect(model.nodeWroteReports('a')).toBe(true);
    // a node whose name starts with another's is not that node
    expect(model.nodeWroteReports('ab')).toBe(false);
    drop(status('a', 'macvlannets', 'lan'));
    expect(model.nodeWroteReports('a')).toBe(false);
    seed(status('a', 'nodes', 'a'), { lastHeartbeatTime: new Date().toISOString() });
    expect(model.nodeWroteReports('a')).toBe(true);
  });

  it('counts only reports written since the Node was made (a former Node\'s agent\'s are not its own)', () => {
    const { model, seed, drop } = modelFixture();
    const node = `${P}/registry/objects/nodes/b`;
    seed(node, { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: meta('b'), spec: {} });
    seed(status('b', 'macvlannets', 'lan'), { ready: true });
    expect(model.nodeWroteReports('b')).toBe(true);
    // deleted and applied again: the report stays, older than the Node
    drop(node);
    seed(node, { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: meta('b'), spec: {} });
    expect(model.nodeWroteReports('b')).toBe(false);
    seed(status('b', 'containernics', 'c-eth1'), { ready: true });
    expect(model.nodeWroteReports('b')).toBe(true);
  });

  it('costs no scan of every directory per node at 1,000 nodes', () => {
    const { model, seed, cache } = modelFixture();
    for (let i = 0; i < N; i++) {
      seed(`${P}/registry/objects/nodes/host-${i}`, { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: meta(`host-${i}`), spec: {} });
      seed(status(`host-${i}`, 'nodes', `host-${i}`), { lastHeartbeatTime: new Date().toISOString() });
      seed(status(`host-${i}`, 'macvlannets', 'lan'), { ready: true });
    }
    const index = (cache as unknown as { contents: { index: { scans: number } } }).contents.index;
    for (let round = 0; round < 3; round++) {
      // an agent joins: a directory comes, and every prefix looked up so far is found anew
      seed(status(`late-${round}`, 'nodes', `late-${round}`), {});
      const before = index.scans;
      for (let i = 0; i < N; i++) expect(model.nodeWroteReports(`idle-${i}`)).toBe(false);
      expect(index.scans - before).toBeLessThan(10);
    }
  });
});
