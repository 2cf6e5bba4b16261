// Values of flags that several xctl commands take, parsed as kubectl parses them: booleans as
// Go's strconv.ParseBool (`--wait=false`), label selectors as equality requirements (`-l a=b`).
import { Option } from 'commander';
import { UsageError } from './exit.js';
import { collect } from './command.js';

/** Go's strconv.ParseBool, which kubectl's --flag=value takes. */
export function parseBoolFlag(flag: string): (v: string) => boolean {
  return (v) => {
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    throw new UsageError(`invalid value "${v}" for ${flag}: use true or false`);
  };
}

/**
 * -l k=v[,k2=v2] (repeatable): every pair must match, as kubectl's equality selectors. As in
 * kubectl, an empty -l selects everything, and an empty requirement (`role=master,`) is refused:
 * a pair lost from a script's selector must not widen what it selects.
 */
export function parseSelector(args: string[] | undefined): Record<string, string> | undefined {
  if (!args?.length) return undefined;
  const sel: Record<string, string> = {};
  for (const arg of args.filter((a) => a.trim() !== '')) {
    const parts = arg.split(',').map((s) => s.trim());
    parts.forEach((part, i) => {
      if (!part) throw new UsageError(`invalid label selector "${arg}": empty requirement ${emptyAt(i, parts.length)}; use key=value[,key=value]`);
      const m = /^([^=!\s]+)==?([^=\s]*)$/.exec(part);
      if (!m) throw new UsageError(`invalid label selector "${part}"; use key=value[,key=value]`);
      sel[m[1]] = m[2];
    });
  }
  return sel;
}

/** Where an empty requirement is, by its index among a selector's comma-separated parts. */
function emptyAt(i: number, count: number): string {
  if (i === 0) return 'before the first ","';
  return i === count - 1 ? 'after the last ","' : 'between two ","';
}
/** `-l, --selector k=v[,k=v]`, repeatable: get's, describe's, delete's, label's and wait's. */
export const selectorOption = (): Option =>
  new Option('-l, --selector <k=v>', 'label selector, k=v[,k=v]; repeatable').argParser(collect);
