// `-o jsonpath=TEMPLATE` for `get KIND` and `get events`: the template parsed once, before etcd
// is read, and kubectl's exit codes for what goes wrong (jsonpath.ts runs it).
import { CliError, EXIT, UsageError } from './exit.js';
import { executeTemplate, JsonPathExecError, JsonPathSyntaxError, parseTemplate } from './jsonpath.js';

/** `-o jsonpath=TEMPLATE`, kubectl's spelling: the template follows the "=" in the same word. */
export const JSONPATH = 'jsonpath=';

/**
 * The printer of a template: a parse error is a usage error (exit 2) naming the template and
 * the character; one while printing fails the command (exit 1) as kubectl's does, and prints nothing.
 */
export function jsonPathPrinter(template: string, allowMissingKeys: boolean): (data: unknown) => string {
  // kubectl's words for `-o jsonpath` and `-o jsonpath=`
  if (!template) throw new UsageError('template format specified but no template given: use -o jsonpath=\'{.metadata.name}\'');
  const quoted = JSON.stringify(template);
  let parsed;
  try {
    parsed = parseTemplate(template);
  } catch (e) {
    throw e instanceof JsonPathSyntaxError ? new UsageError(`error parsing jsonpath ${quoted}: ${e.message}`) : e;
  }
  return (data) => {
    try {
      return executeTemplate(parsed, data, { allowMissingKeys });
    } catch (e) {
      throw e instanceof JsonPathExecError ? new CliError(EXIT.FAILED, `error executing jsonpath ${quoted}: ${e.message}`) : e;
    }
  };
}

