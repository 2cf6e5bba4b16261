// `xctl wait --for jsonpath='{.status.ip}'=10.64.0.5`, as kubectl's: met when the template,
// run over the object as `get -o json` prints it, prints VALUE; without `=VALUE`, when it
// prints anything (the field exists). Pure: parsing and judging, no I/O.
import { UsageError } from '../exit.js';
import { executeTemplate, JsonPathExecError, JsonPathSyntaxError, parseTemplate, type Template } from '../jsonpath.js';
import { printable } from '../../printable.js';

export interface JsonPathGoal { type: 'jsonpath'; template: Template; value?: string; source: string; text: string }

/**
 * `{.status.phase}=Running`, `{.status.ip}`, or kubectl's form without braces
 * (`.status.phase=Running`). The template ends at the first `}` that is followed by `=` or
 * by nothing and closes a template that parses, so a `}` or `=` inside a filter
 * (`{.status.conditions[?(@.type=="Ready")].status}=True`) does not cut it short.
 */
export function parseJsonPathGoal(s: string): JsonPathGoal {
  if (!s) throw new UsageError(`--for jsonpath= needs a template: e.g. --for jsonpath='{.status.ip}'=10.64.0.5`);
  if (!s.startsWith('{')) {
    const eq = s.indexOf('=');
    return goal(`{${eq < 0 ? s : s.slice(0, eq)}}`, eq < 0 ? undefined : s.slice(eq + 1));
  }
  let firstError: unknown;
  for (let i = s.indexOf('}'); i >= 0; i = s.indexOf('}', i + 1)) {
    if (i + 1 < s.length && s[i + 1] !== '=') continue;
    try {
      return goal(s.slice(0, i + 1), i + 1 < s.length ? s.slice(i + 2) : undefined);
    } catch (e) {
      if (!(e instanceof JsonPathSyntaxError)) throw e;
      firstError ??= e;
    }
  }
  const why = firstError instanceof Error ? `: ${firstError.message}` : ': no closing "}"';
  throw new UsageError(`invalid --for jsonpath=${s}${why}; use jsonpath='{.FIELD}'=VALUE`);
}

function goal(source: string, value: string | undefined): JsonPathGoal {
  if (value === '') throw new UsageError(`--for jsonpath=${source}= has no VALUE after "="; give one, or leave out "=" to wait for the field to be there`);
  return { type: 'jsonpath', template: parseTemplate(source), value, source, text: value === undefined ? source : `${source}=${value}` };
}

/** Whether the object meets the goal, and what the template printed, for a timeout's message. */
export function jsonPathState(g: JsonPathGoal, o: unknown): { met: boolean; text: string } {
  let out: string;
  try {
    out = executeTemplate(g.template, o, { allowMissingKeys: true });
  } catch (e) {
    if (!(e instanceof JsonPathExecError)) throw e;
    return { met: false, text: `${g.source}: ${e.message}` };
  }
  const met = g.value === undefined ? out !== '' : out === g.value;
  return { met, text: out === '' ? `${g.source} is empty or not there` : `${g.source} is ${JSON.stringify(printable(out))}` };
}
