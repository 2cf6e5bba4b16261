// Values the agent reads from etcd status end up in `ip -batch` lines and iptables-restore
// input joined by spaces and newlines. Status schemas keep them plain strings (the controller
// and every agent write there), so anyone able to write a status key could smuggle in a whole
// extra command ("br01\nroute del default"). Each value is checked against the same field
// schema as the spec before it becomes desired state; an invalid one stops that object.
import { z } from 'zod';
import { cidr, ifName, ipv4, mac, name } from '../api/fields.js';
import type { Problem } from './planner/ops.js';

const prefixLength = z.number().int().min(0, 'must be 0..32').max(32, 'must be 0..32');

export const FIELD = { cidr, ifName, ipv4, mac, name, prefixLength } as const;

/** [path shown to the user, value (undefined or null = not set), schema] */
export type FieldCheck = [path: string, value: unknown, schema: z.ZodType];

/** Why `value` is not valid for `schema`, or undefined when it is. */
export function fieldError(value: unknown, schema: z.ZodType): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : r.error.issues.map((i) => i.message).join('; ');
}

/**
 * The first invalid field of `checks` as the problem `<kind> <name>` shows, e.g. InvalidStatus:
 * `HostSubnet default-host-1: status.bridge "br01\nroute del default" is not valid: ...`.
 */
export function invalidField(kind: string, name: string, checks: FieldCheck[]): Problem | undefined {
  for (const [path, value, schema] of checks) {
    if (value == null) continue;
    const why = fieldError(value, schema);
    if (why === undefined) continue;
    return {
      reason: path.startsWith('spec.') ? 'InvalidSpec' : 'InvalidStatus',
      message: `${kind} ${name}: ${path} ${JSON.stringify(value)} is not valid: ${why}; xnet does not act on it until it is corrected`,
    };
  }
  return undefined;
}
