// A set-once field the store refuses when it plans the write (another writer changed the object
// after xctl's own check, or wrote it first): located as every manifest problem is, with file,
// document, line and field, exit 2. Before, a plain "ClusterNetwork "cn": spec.hostPrefix: ..."
// with no location (review h182).
import { describe, expect, it } from 'vitest';
import { parseSources } from '../../pkg/manifest/load.js';
import { locateWriteError } from '../../pkg/cli/commands/locate.js';
import { planWrite } from '../../pkg/store/write-plan.js';
import { Keys } from '../../pkg/store/keys.js';
import { ManifestError } from '../../pkg/manifest/errors.js';
import type { AnyObject } from '../../pkg/api/index.js';

const text = `apiVersion: xnet.io/v1alpha1
kind: Node
metadata: {name: n1}
spec: {address: 198.18.0.1}
---
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: cn}
spec:
  cidr: 10.20.0.0/16
  hostPrefix: 24
`;

describe('a set-once field refused by the store, located', () => {
  it('names the file, document, line and field, as a manifest problem (exit 2)', () => {
    const loaded = parseSources([{ file: 'cn.yaml', text }]);
    const wanted = loaded[1].object;
    // as stored by another writer since xctl's check: hostPrefix 26
    const stored = { ...wanted, metadata: { ...wanted.metadata, uid: 'u1', resourceVersion: '7', generation: 1, creationTimestamp: '2026-12-07T00:00:00Z' }, spec: { ...wanted.spec, hostPrefix: 26 } } as AnyObject;
    const keys = new Keys();
    const kv = { key: Buffer.from(keys.object('ClusterNetwork', 'cn')), value: Buffer.from(JSON.stringify(stored)), mod_revision: '7', create_revision: '7', version: '1', lease: '0' };
    let refused: unknown;
    try { planWrite(keys, wanted as never, undefined, { kv: kv as never, obj: stored }, 'apply'); } catch (e) { refused = e; }
    expect(refused, 'the store refuses the write').toBeDefined();
    const e = locateWriteError(refused, loaded);
    expect(e).toBeInstanceOf(ManifestError);
    expect((e as Error).message).toMatch(/^invalid manifest: cn\.yaml:11: document 2 \(clusternetwork\/cn\): spec\.hostPrefix: is set once, when the ClusterNetwork is created \(stored: 26\)/);
  });
});
