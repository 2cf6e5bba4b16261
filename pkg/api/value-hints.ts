// How to write what the author meant, said in the syntax of the document the value is in: a
// string field that YAML read as a number or boolean (labels: {rack: 1}) in quotes; a list given
// one value as a list; an option in another case (mode: Bridge) as the option. A JSON document
// has no unquoted strings and no YAML 1.1 to blame: "YAML reads unquoted 5 as a number" and
// "write it as [10.76.0.0/24]" are no help to its author, `"5"` and `["10.76.0.0/24"]` are.
import type { z } from 'zod';
import { suggestion } from './suggest.js';

/** How a manifest document was written. */
export type ManifestSyntax = 'yaml' | 'json';

/**
 * A plain scalar that is a number with a leading zero: YAML 1.1 (kubectl's reader) and 1.2
 * (xctl's) read `030` differently, so the manifest reader keeps it as text (pkg/manifest/parse.ts)
 * and a number field refuses it with both readings.
 */
export const LEADING_ZERO_NUMBER = /^[-+]?0[0-9]+$/;

/** The hint to add to the message of zod's issue `i` about the value `v`, or ''. */
export function valueHint(i: z.core.$ZodIssue, v: unknown, syntax: ManifestSyntax = 'yaml'): string {
  if (i.code === 'invalid_value' && typeof v === 'string') return suggestion(v, i.values.map(String));
  if (i.code !== 'invalid_type') return '';
  if (i.expected === 'array' && (typeof v === 'string' || typeof v === 'number')) return `; write it as [${syntax === 'json' ? JSON.stringify(v) : String(v)}]`;
  if (typeof v === 'string' && (i.expected === 'number' || i.expected === 'boolean')) return stringForScalarHint(i.expected as 'number' | 'boolean', v, syntax);
  if (i.expected !== 'string' || (typeof v !== 'number' && typeof v !== 'boolean')) return '';
  if (syntax === 'json') return `; write it as a string: ${JSON.stringify(String(v))}`;
  const shown = typeof v === 'boolean' || Number.isSafeInteger(v) ? `unquoted ${String(v)}` : 'it';
  return `; put the value in quotes (YAML reads ${shown} as a ${typeof v})`;
}

/**
 * A number or boolean written as a string: quoted (`"24"`), with `_` (`1_500`), with a leading
 * zero (`030`: YAML 1.1, which kubectl reads, takes it as octal 24, YAML 1.2 as 30, so the
 * manifest reads it as neither) or as YAML 1.1's booleans (`yes`, `on`...).
 */
function stringForScalarHint(expected: 'number' | 'boolean', v: string, syntax: ManifestSyntax): string {
  // only YAML has a reading in which the author's word was a boolean or an octal number
  const yaml = syntax === 'yaml';
  if (expected === 'boolean') {
    const word = v.toLowerCase();
    const why = yaml ? ` (YAML 1.2 reads ${v} as a string)` : '';
    if (['y', 'yes', 'on', 'true'].includes(word)) return `; write true${word === 'true' ? ', unquoted' : why}`;
    if (['n', 'no', 'off', 'false'].includes(word)) return `; write false${word === 'false' ? ', unquoted' : why}`;
    return '';
  }
  if (LEADING_ZERO_NUMBER.test(v) && yaml) {
    // go-yaml v2 reads 08 and 09 (no octal) as decimal, like YAML 1.2
    const old = /^[-+]?0[0-7]+$/.test(v) ? `takes ${v} as octal ${parseInt(v, 8)}` : `reads ${v} as ${Number(v)}`;
    return `; a leading zero is ambiguous (YAML 1.1, kubectl's, ${old}; YAML 1.2 as ${Number(v)}): write the number without it`;
  }
  const n = Number(v.replace(/_/g, ''));
  return /^[-+]?[0-9][0-9_]*(\.[0-9]+)?$/.test(v) && Number.isFinite(n) ? `; write it as the number ${n}, unquoted` : '';
}
