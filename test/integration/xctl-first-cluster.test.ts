// manifests/examples/first-cluster/cluster.yaml, the example for real hosts: as shipped it names
// no real Node (NODE), so an apply is refused at that field and writes nothing; with a Node's
// and a container's name filled in it applies, and a second apply changes nothing.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';

const lab = xctlInProcess('xctl-first-cluster');
const EXAMPLE = 'manifests/examples/first-cluster/cluster.yaml';

describe('the first-cluster example', () => {
  it('as shipped is refused at spec.node, naming file, document and line, and writes nothing', async () => {
    const rev = await lab.store.revision();
    const r = await lab.xctl(['apply', '-f', EXAMPLE]);
    expect(r.code).toBe(2);
    const line = readFileSync(EXAMPLE, 'utf8').split('\n').findIndex((l) => l.startsWith('  node: NODE')) + 1;
    expect(r.err).toContain(`${EXAMPLE}:${line}:`);
    expect(r.err).toMatch(/document 2.*spec\.node/);
    expect(await lab.store.revision()).toBe(rev);
  });

  it('with a Node and a container filled in, applies; applied again, changes nothing', async () => {
    const text = readFileSync(EXAMPLE, 'utf8').replace('node: NODE', 'node: host-1').replace('container: CONTAINER', 'container: web');
    const f = lab.file('cluster.yaml', text);
    const first = await lab.xctl(['apply', '-f', f]);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toBe('clusternetwork/apps created\ncontainernic/web-eth1 created\n');
    const again = await lab.xctl(['apply', '-f', f]);
    expect(again.out).toBe('clusternetwork/apps unchanged\ncontainernic/web-eth1 unchanged\n');
  });
});
