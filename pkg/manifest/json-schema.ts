// JSON Schemas of the kinds, derived from the zod schemas (the one source of truth).
// io 'input' describes what a user may write: defaulted fields are optional. Refinements
// that JSON Schema cannot express (host bits, gateway inside subnet...) are left to xctl.
import { z } from 'zod';
import { API_VERSION } from '../api/types.js';
import { KINDS } from '../api/kinds.js';

const SCHEMA_BASE = 'https://xnet.io/schemas/v1alpha1';

function toSchema(schema: z.ZodTypeAny, id: string, title: string): Record<string, unknown> {
  // draft-07 because YAML language servers in editors support it best.
  const js = z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = js;
  return { $schema, $id: `${SCHEMA_BASE}/${id}`, title, ...rest };
}

/** file name -> file text; one file per kind plus xnet.json that accepts any kind. */
export function renderSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of KINDS) {
    const file = `${k.kind.toLowerCase()}.json`;
    out[file] = JSON.stringify(toSchema(k.schema, file, `${k.kind} (${API_VERSION})`), null, 2) + '\n';
  }
  const any = z.union(KINDS.map((k) => k.schema) as unknown as [z.ZodTypeAny, z.ZodTypeAny, ...z.ZodTypeAny[]]);
  out['xnet.json'] = JSON.stringify(toSchema(any, 'xnet.json', `any xnet object (${API_VERSION})`), null, 2) + '\n';
  return out;
}
