// `xctl get -o yaml`: what it prints reads back the same in xctl (YAML 1.2) and in the YAML 1.1
// readers kubectl users pipe it into, where an unquoted `yes` is true and `on` is true.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml } from '../../pkg/cli/format.js';
import { parseSources } from '../../pkg/manifest/load.js';

describe('get -o yaml', () => {
  const node = {
    apiVersion: 'xnet.io/v1alpha1', kind: 'Node',
    metadata: { name: 'host-1', labels: { pods: 'yes', lan: 'on', rack: 'n', zone: 'plain' }, creationTimestamp: '2026-12-04T23:51:20.935Z' },
    spec: {},
  };

  it('quotes the strings a YAML 1.1 reader would take for booleans or timestamps, as kubectl does', () => {
    const text = toYaml(node);
    expect(text).toContain('pods: "yes"');
    expect(text).toContain('lan: "on"');
    expect(text).toContain('rack: "n"');
    expect(text).toContain('zone: plain');
    expect(text).toContain('creationTimestamp: "2026-12-04T23:51:20.935Z"');
    // a YAML 1.1 reader gets the strings back
    expect(parse(text, { version: '1.1' }).metadata.labels).toEqual(node.metadata.labels);
  });

  it('reads back into xctl apply unchanged', () => {
    const [l] = parseSources([{ file: 'n.yaml', text: toYaml(node) }]);
    expect(l.object.metadata.labels).toEqual(node.metadata.labels);
  });
});
