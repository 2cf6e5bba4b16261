// `-l` as kubectl reads it: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists)
// and `!k` (does not exist), separated by commas, whitespace around the tokens allowed. Keys and
// values are checked by the API's own label rules, so that a selector that could never match a
// stored label (a typo, a stray character) is refused rather than silently selecting nothing.
import { labelKeyProblem, labelValueProblem } from '../api/fields.js';
import type { LabelRequirement, LabelSelector } from '../api/labels.js';
import { UsageError } from './exit.js';

/** The forms a requirement takes, said in every message about one that does not parse. */
export const SELECTOR_FORMS = 'key=value, key!=value, key in (v1,v2), key notin (v1,v2), key, !key';

// a key as the tokenizer sees it (no white space or operator characters); its label syntax is checked after
const KEY = '[^\\s=!(),]+';
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);
const EQUALITY = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(.*)$`);
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\((.*)\\)$`);

/**
 * -l, each repeated flag a list of requirements, all ANDed together. As in kubectl, an empty -l
 * selects everything, and an empty requirement (`role=master,`) is refused: a requirement lost
 * from a script's selector must not widen what it selects.
 */
export function parseSelector(args: string[] | undefined): LabelSelector | undefined {
  if (!args?.length) return undefined;
  return args.filter((a) => a.trim() !== '').flatMap(parseOne);
}

function parseOne(arg: string): LabelSelector {
  const parts = splitRequirements(arg);
  return parts.map((part, i) => {
    if (!part) throw new UsageError(`invalid label selector "${arg}": empty requirement ${emptyAt(i, parts.length)}; use key=value[,key=value]`);
    return parseRequirement(arg, part);
  });
}

/** The selector's requirements, split at the commas outside parentheses (those inside separate a set's values). */
function splitRequirements(arg: string): string[] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] === '(') depth++;
    if (arg[i] === ')' && --depth < 0) throw new UsageError(`invalid label selector "${arg}": ")" without its "("`);
    if (arg[i] === ',' && depth === 0) { parts.push(arg.slice(start, i).trim()); start = i + 1; }
  }
  if (depth > 0) throw new UsageError(`invalid label selector "${arg}": "(" without its ")"`);
  return [...parts, arg.slice(start).trim()];
}

/** Where an empty requirement is, by its index among a selector's comma-separated parts. */
function emptyAt(i: number, count: number): string {
  if (i === 0) return 'before the first ","';
  return i === count - 1 ? 'after the last ","' : 'between two ","';
}

function parseRequirement(arg: string, part: string): LabelRequirement {
  const bad = (why: string) => new UsageError(`invalid label selector "${arg}": ${why}`);
  const checkedKey = (key: string) => {
    const why = labelKeyProblem(key);
    if (why) throw bad(`invalid label key "${key}": ${why}`);
    return key;
  };
  const checkedValue = (value: string) => {
    const why = labelValueProblem(value);
    if (why) throw bad(`invalid label value "${value}": ${why}`);
    return value;
  };
  // kubectl's Gt and Lt (`replicas>2`): read as part of a key they would refuse with the key rule, which misleads
  if (/[<>]/.test(part)) throw bad(`"${part}": > and < are not supported; use ${SELECTOR_FORMS}`);
  let m = EXISTS.exec(part);
  if (m) return { key: checkedKey(m[2]), operator: m[1] ? 'DoesNotExist' : 'Exists' };
  m = SET.exec(part);
  if (m) {
    const key = checkedKey(m[1]);
    const values = m[3].split(',').map((v) => checkedValue(v.trim()));
    if (values.length === 1 && values[0] === '') throw bad(`"${part}" has no values; give at least one: ${key} ${m[2]} (v1,v2)`);
    return { key, operator: m[2] === 'in' ? 'In' : 'NotIn', values };
  }
  m = EQUALITY.exec(part);
  if (m) {
    const key = checkedKey(m[1]);
    return { key, operator: m[2] === '!=' ? 'NotIn' : 'In', values: [checkedValue(m[3].trim())] };
  }
  throw bad(`cannot read "${part}" as a requirement; use ${SELECTOR_FORMS}, comma-separated`);
}
