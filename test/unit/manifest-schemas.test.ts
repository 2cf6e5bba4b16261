// The committed JSON Schemas are generated from the zod schemas and must not drift from them.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderSchemas } from '../../pkg/manifest/json-schema.js';

const rendered = renderSchemas();
const schema = (f: string) => JSON.parse(rendered[f]);

describe('JSON Schemas', () => {
  it('are committed exactly as generated (run node dist/cmd/gen-schemas.js after changing pkg/api)', () => {
    for (const [file, text] of Object.entries(rendered)) {
      expect(readFileSync(`manifests/schemas/${file}`, 'utf8'), file).toBe(text);
    }
  });

  it('describe what users write: defaulted fields are optional, unknown fields refused', () => {
    const mvn = schema('macvlannet.json');
    expect(mvn.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(mvn.required).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(mvn.additionalProperties).toBe(false);
    const spec = mvn.properties.spec;
    expect(spec.required).toEqual(['subnet']);
    expect(spec.additionalProperties).toBe(false);
    expect(spec.properties.mode).toMatchObject({ enum: ['bridge', 'private', 'vepa', 'passthru'], default: 'bridge' });
    expect(spec.properties.vlan).toMatchObject({ minimum: 1, maximum: 4094 });
    expect(schema('node.json').required).not.toContain('spec');
    expect(schema('containernic.json').properties.spec.required).toEqual(['node', 'container', 'ifName', 'network']);
  });

  it('xnet.json accepts any of the five kinds', () => {
    const any = schema('xnet.json');
    const kinds = (any.anyOf ?? any.oneOf).map((s: { properties: { kind: { const: string } } }) => s.properties.kind.const);
    expect(kinds).toEqual(['ClusterNetwork', 'Node', 'HostSubnet', 'ContainerNic', 'MacvlanNet']);
  });
});
