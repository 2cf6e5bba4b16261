// How to mend a value, said in the syntax of the document it is in: a JSON document was told
// "YAML reads unquoted 5 as a number" and to write a list as [10.76.0.0/24], which is no JSON.
import { describe, expect, it } from 'vitest';
import { parseSources } from '../../pkg/manifest/load.js';
import { ManifestError } from '../../pkg/manifest/errors.js';

function reasons(file: string, text: string): string[] {
  try {
    parseSources([{ file, text }]);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).issues.map((i) => `${i.path}: ${i.reason}`);
  }
  throw new Error('manifest was accepted');
}

const node = { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n1', labels: { rack: 5, edge: true } } };
const cn = { apiVersion: 'xnet.io/v1alpha1', kind: 'ClusterNetwork', metadata: { name: 'c1' }, spec: { cidr: '10.76.0.0/16', hostPrefix: 24, reserved: '10.76.0.0/24', masquerade: 'yes' } };

describe('hints in a JSON document', () => {
  it('tell a .json file to write a string value as a JSON string, not what YAML reads', () => {
    expect(reasons('m.json', JSON.stringify(node, null, 2))).toEqual([
      'metadata.labels.rack: must be a string, not a number; write it as a string: "5"',
      'metadata.labels.edge: must be a string, not a boolean; write it as a string: "true"',
    ]);
  });

  it('write a list and a boolean as JSON writes them', () => {
    expect(reasons('m.json', JSON.stringify(cn))).toEqual([
      'spec.reserved: must be a list, not a string; write it as ["10.76.0.0/24"]',
      'spec.masquerade: must be a boolean, not a string; write true',
    ]);
  });

  it('take JSON on stdin (get -o json | apply -f -) for JSON too', () => {
    expect(reasons('<stdin>', JSON.stringify(node))[0]).toBe('metadata.labels.rack: must be a string, not a number; write it as a string: "5"');
  });

  it('keep the YAML wording for a YAML document, also in a file of several documents', () => {
    const yaml = 'apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n2\n  labels:\n    rack: 5\n';
    expect(reasons('m.yaml', `${yaml}---\n${JSON.stringify(node)}\n`)).toEqual([
      'metadata.labels.rack: must be a string, not a number; put the value in quotes (YAML reads unquoted 5 as a number)',
      'metadata.labels.rack: must be a string, not a number; write it as a string: "5"',
      'metadata.labels.edge: must be a string, not a boolean; write it as a string: "true"',
    ]);
  });
});
