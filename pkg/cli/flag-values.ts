// Values of flags that several xctl commands take, parsed as kubectl parses them: booleans as
// Go's strconv.ParseBool (`--wait=false`); label selectors (`-l`) are parsed in label-selector.ts.
import { Option } from 'commander';
import { UsageError } from './exit.js';
import { collect } from './command.js';
import { SELECTOR_FORMS } from './label-selector.js';

/** Go's strconv.ParseBool, which kubectl's --flag=value takes. */
export function parseBoolFlag(flag: string): (v: string) => boolean {
  return (v) => {
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    throw new UsageError(`invalid value "${v}" for ${flag}: use true or false`);
  };
}

/** `-l, --selector SELECTOR`, repeatable (each one ANDed): get's, describe's, delete's, label's and wait's. */
export const selectorOption = (): Option =>
  new Option('-l, --selector <selector>', `label selector: ${SELECTOR_FORMS}; comma-separated, all must match; repeatable`).argParser(collect);
