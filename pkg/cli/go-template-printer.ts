// `-o go-template=TEMPLATE` for `get KIND` and `get events`: the template parsed once, before etcd
// is read, and kubectl's exit codes for what goes wrong (go-template-exec.ts runs it).
import { CliError, EXIT, UsageError } from './exit.js';
import { positionText } from './go-template-lex.js';
import { executeGoTemplate, GoTemplateExecError, parseTemplateText } from './go-template-exec.js';
import { GoTemplateSyntaxError } from './go-template-parse.js';

/** `-o go-template=TEMPLATE`, kubectl's spelling: the template follows the "=" in the same word. */
export const GO_TEMPLATE = 'go-template=';

/**
 * The printer of a template: a parse error is a usage error (exit 2) naming the template and
 * the position; one while printing fails the command (exit 1), naming the object it was at, and
 * prints nothing.
 */
export function goTemplatePrinter(template: string, allowMissingKeys: boolean): (data: unknown) => string {
  // kubectl's words for `-o go-template` and `-o go-template=`
  if (!template) throw new UsageError('template format specified but no template given: use -o go-template=\'{{.metadata.name}}\'');
  const quoted = JSON.stringify(template);
  let parsed;
  try {
    parsed = parseTemplateText(template);
  } catch (e) {
    if (!(e instanceof GoTemplateSyntaxError)) throw e;
    throw new UsageError(`error parsing template ${quoted}: ${e.what} at ${positionText(template, e.pos)}`);
  }
  return (data) => {
    try {
      // what kubectl gives its template: the object as JSON, decoded again (no undefined fields)
      return executeGoTemplate(parsed, JSON.parse(JSON.stringify(data)) as unknown, { allowMissingKeys });
    } catch (e) {
      if (!(e instanceof GoTemplateExecError)) throw e;
      throw new CliError(EXIT.FAILED, `error executing template ${quoted}${e.object ? ` on ${e.object}` : ''}: ${e.message}`);
    }
  };
}
