// The bounds of `-o go-template=`: a template is a line or a small file, but nothing in Go's
// text/template stops one from nesting thousands deep, ranging a billion times, or ranging over
// the List inside a range over the List inside...; each such template ends with an error that
// says which bound it met (exit 1, or exit 2 when it is found while parsing), never a hang, a
// heap exhausted or a stack overflow.
import { describe, expect, it } from 'vitest';
import { goTemplatePrinter } from '../../pkg/cli/go-template-printer.js';
import { exitCodeFor, EXIT } from '../../pkg/cli/exit.js';
import { executeGoTemplate, parseTemplateText, GoTemplateExecError, type GoTemplateLimits } from '../../pkg/cli/go-template-exec.js';

const node = { apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'n1' }, spec: { address: '198.18.0.11' } };
const list = { apiVersion: 'v1', kind: 'List', items: [node, node, node] };

function failure(template: string, data: unknown = list): { code: number; message: string } {
  try { goTemplatePrinter(template, true)(data); } catch (e) { return { code: exitCodeFor(e), message: (e as Error).message }; }
  throw new Error(`"${template.slice(0, 40)}..." did not fail`);
}

/** The error of a run under lowered bounds (the real ones are tested once each: they cost seconds). */
function failureWithin(limits: GoTemplateLimits, template: string, data: unknown = list): string {
  try { executeGoTemplate(parseTemplateText(template), data, { allowMissingKeys: true, limits }); } catch (e) { return `${(e as GoTemplateExecError).object}: ${(e as Error).message}`; }
  throw new Error(`"${template.slice(0, 40)}..." did not fail`);
}

describe('nesting', () => {
  it('100 levels of parentheses and blocks run; one more is a parse error (exit 2), not a stack overflow', () => {
    const parens = (n: number) => `{{${'(print '.repeat(n)}1${')'.repeat(n)}}}`;
    const ifs = (n: number) => `${'{{if 1}}'.repeat(n)}x${'{{end}}'.repeat(n)}`;
    expect(goTemplatePrinter(parens(99), true)(list)).toBe('1');
    expect(goTemplatePrinter(ifs(100), true)(list)).toBe('x');
    for (const deep of [parens(101), ifs(101), parens(50000), ifs(50000)]) {
      const f = failure(deep);
      expect(f.code).toBe(EXIT.USAGE);
      expect(f.message).toMatch(/: nested more than 100 deep \(parentheses, if, with, range, else if\) at character \d+$/);
    }
  });

  it('an {{else if}} chain counts each link, as it nests', () => {
    const chain = (n: number) => `{{if 0}}${'{{else if 0}}'.repeat(n)}{{else}}last{{end}}`;
    expect(goTemplatePrinter(chain(90), true)(list)).toBe('last');
    expect(failure(chain(200)).message).toContain('nested more than 100 deep');
  });
});

describe('work', () => {
  it('a range of a billion turns ends after 5,000,000 steps, exit 1, naming the object it was at', () => {
    expect(failure('{{range 1000000000}}{{end}}')).toEqual({ code: EXIT.FAILED, message: 'error executing template "{{range 1000000000}}{{end}}": the template took more than 5000000 steps (an action, a call or a turn of a range each); xctl stops it there' });
  });

  it('ranges nested over the List end the same way: their work multiplies; the error names the object', () => {
    const limits = { steps: 1000, text: 1000 };
    const nested = `${'{{range $.items}}'.repeat(20)}{{end}}${'{{end}}'.repeat(19)}`;
    expect(failureWithin(limits, nested)).toBe('node/n1: the template took more than 1000 steps (an action, a call or a turn of a range each); xctl stops it there');
    // 3^6 turns of the innermost range and its action: within 1000 steps? no; 3^5: yes
    expect(() => executeGoTemplate(parseTemplateText(`${'{{range $.items}}'.repeat(5)}{{end}}${'{{end}}'.repeat(4)}`), list, { allowMissingKeys: true, limits })).not.toThrow();
  });

  it('more than 64 MiB of text ends the template, exit 1, before the heap fills', () => {
    const f = failure('{{range 100000}}{{printf "%1000s" "x"}}{{end}}');
    expect(f.code).toBe(EXIT.FAILED);
    expect(f.message).toContain('the template made more than 64 MiB of text; xctl stops it there');
    // text made and thrown away counts too: it took the memory all the same
    const limits = { steps: 1000, text: 10 * 1024 * 1024 };
    expect(failureWithin(limits, '{{range 100}}{{len (printf "%1000000s" "x")}}{{end}}')).toContain('more than 10 MiB of text');
    expect(failureWithin(limits, '{{range 100}}{{println $}}{{end}}', 'x'.repeat(1024 * 1024))).toContain('more than 10 MiB of text');
  });
});
