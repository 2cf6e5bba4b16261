// Field-level schemas shared by every kind. Each one is a zod schema so that validation,
// defaults, TypeScript types and the published JSON Schemas come from one definition.
import { z } from 'zod';
import { isIPv4, ipv4Slip, parseCidr, IpParseError } from '../ip/ipv4.js';

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const name = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(DNS1123_LABEL, 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit');

export const ipv4 = z
  .string()
  .superRefine((v, ctx) => {
    if (isIPv4(v)) return;
    // an address written as a CIDR (ip: 10.76.1.84/24): the network says its prefix length
    const bare = v.split('/')[0];
    const slip = ipv4Slip(bare);
    const hint = v.includes('/') && isIPv4(bare) ? `; did you mean ${bare}? (the prefix length comes from the network)` : slip && `; ${slip}`;
    ctx.addIssue({ code: 'custom', message: `must be an IPv4 address such as 10.76.1.84${hint}` });
  })
  .meta({ format: 'ipv4' });

export const cidr = z.string().superRefine((v, ctx) => {
  try {
    parseCidr(v);
  } catch (e) {
    const why = e instanceof IpParseError ? e.why : String(e);
    // a bare address where a range is wanted (exclude: [10.0.0.7]): name the /32 it would be
    ctx.addIssue({ code: 'custom', message: isIPv4(v) ? `${why}; did you mean ${v}/32?` : why });
  }
}).meta({ pattern: '^[0-9.]+/[0-9]{1,2}$' });

// Linux IFNAMSIZ is 16 including the NUL. '/', ':' and white space are refused by the kernel or
// by ip(8); shell metacharacters are refused too because operators paste names into shells.
export const ifName = z
  .string()
  .min(1, 'must not be empty')
  .max(15, 'must be at most 15 characters (Linux IFNAMSIZ)')
  .regex(/^[A-Za-z0-9_.@-]+$/, 'may contain only letters, digits, ".", "_", "-" and "@"')
  .refine((v) => v !== '.' && v !== '..', 'must not be "." or ".."');

export const mac = z
  .string()
  .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'must be a MAC address such as 02:42:0a:4c:01:54')
  .refine((v) => (parseInt(v.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC (the lowest bit of the first octet clear)')
  // the kernel refuses it ("Cannot assign requested address"): the NIC would stay half-made
  .refine((v) => !/^00(:00){5}$/.test(v), 'must not be 00:00:00:00:00:00, which no interface may have');

// Kubernetes' label syntax: the messages say the rule, since "invalid label key" alone leaves
// the operator guessing which character is wrong.
const LABEL_KEY_RULE = 'a key is [prefix/]name: name of letters, digits, "-", "_" and ".", starting and ending with a letter or digit, at most 63 characters; prefix a DNS subdomain (lower-case letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit), at most 253 characters';
const LABEL_VALUE_RULE = 'at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit (or empty)';
const DNS1123_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const LABEL_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?';
const LABEL_KEY_SYNTAX = new RegExp(`^(${DNS1123_SUBDOMAIN}/)?${LABEL_NAME}$`);
const LABEL_VALUE_SYNTAX = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** What is wrong with a label key (Kubernetes' rule), or undefined when it is a good one. */
export function labelKeyProblem(key: string): string | undefined {
  if (!LABEL_KEY_SYNTAX.test(key)) return LABEL_KEY_RULE;
  const slash = key.indexOf('/');
  const [prefix, keyName] = slash < 0 ? ['', key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix.length > 253) return `the prefix (before the "/") has ${prefix.length} characters, at most 253; ${LABEL_KEY_RULE}`;
  if (keyName.length > 63) return `the name (after any "/") has ${keyName.length} characters, at most 63; ${LABEL_KEY_RULE}`;
  return undefined;
}

/** What is wrong with a label value (Kubernetes' rule), or undefined when it is a good one. */
export function labelValueProblem(value: string): string | undefined {
  return value.length > 63 || !LABEL_VALUE_SYNTAX.test(value) ? LABEL_VALUE_RULE : undefined;
}

const labelKey = z.string().superRefine((k, ctx) => {
  const why = labelKeyProblem(k);
  if (why) ctx.addIssue({ code: 'custom', message: `invalid label key: ${why}` });
}).meta({
  // the same rule for editors: a prefix of 1..253 characters, a name of 1..63
  pattern: `^((?=[^/]{1,253}/)${DNS1123_SUBDOMAIN}/)?(?=[^/]{1,63}$)${LABEL_NAME}$`,
});

export const labels = z.record(
  labelKey,
  z.string().max(63, `invalid label value: ${LABEL_VALUE_RULE}`).regex(LABEL_VALUE_SYNTAX, `invalid label value: ${LABEL_VALUE_RULE}`),
);

export const nodeSelector = z.strictObject({
  matchLabels: labels.optional(),
});

export const conditionStatus = z.enum(['True', 'False', 'Unknown']);

export const condition = z.strictObject({
  type: z.string(),
  status: conditionStatus,
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof condition>;

export const metadata = z.strictObject({
  name,
  labels: labels.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  // Set by the system. Accepted on apply so that `get -o yaml | apply -f -` round-trips.
  uid: z.string().optional(),
  resourceVersion: z.string().regex(/^\d+$/, 'must be a decimal etcd revision').optional(),
  generation: z.number().int().nonnegative().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof metadata>;
