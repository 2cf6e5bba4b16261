// An alias names an anchor of its own document: `<<: *defaults` under an anchor set in the
// document before was refused with "Merge sources must be maps or map aliases", and a plain
// alias with "Unresolved alias" at the document's first line; neither said that anchors do not
// cross documents, nor where the alias is.
import { describe, expect, it } from 'vitest';
import { parseSources } from '../../pkg/manifest/load.js';
import { refuse } from './manifest-refuse.js';

const first = 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: a\n  labels: &common {rack: r1}\n';
const second = (labels: string) => `---\napiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: b\n  labels:${labels}\n`;
const CROSS = 'the anchor &common is set in document 1 (line 5), and anchors do not cross documents: write the values here, or put both objects in one List and share the anchor there';

describe('an alias of an anchor in another document', () => {
  it('is refused at the merge key that names it, saying anchors do not cross documents', () => {
    const issues = refuse(`${first}${second('\n    <<: *common\n    row: "2"')}`);
    expect(issues.map((i) => [i.line, i.document, i.path, i.reason])).toEqual([[12, 2, 'metadata.labels.<<', `*common: ${CROSS}`]]);
  });

  it('is refused at a plain alias too, at its own line', () => {
    const issues = refuse(`${first}${second(' *common')}`);
    expect(issues.map((i) => [i.line, i.document, i.path, i.reason])).toEqual([[11, 2, 'metadata.labels', `*common: ${CROSS}`]]);
  });

  it('names an anchor set nowhere before it as such', () => {
    const issues = refuse(`${first}${second('\n    <<: *nope')}`);
    expect(issues.map((i) => [i.line, i.document, i.path, i.reason])).toEqual([[12, 2, 'metadata.labels.<<', '*nope: no anchor &nope is set before it in this document; set one (&nope) on the value to repeat']]);
  });

  it('still reads an anchor shared inside one document', () => {
    const list = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: xnet.io/v1alpha1\n  kind: Node\n  metadata: {name: a, labels: &l {rack: r1}}\n- apiVersion: xnet.io/v1alpha1\n  kind: Node\n  metadata:\n    name: b\n    labels: {<<: *l, row: "2"}\n';
    expect(parseSources([{ file: 'm.yaml', text: list }]).map((l) => l.object.metadata.labels)).toEqual([{ rack: 'r1' }, { rack: 'r1', row: '2' }]);
  });
});
