// `-o go-template=` without etcd: the builtin functions (pkg/cli/go-template-funcs.ts, printf's
// verbs in go-template-fmt.ts) and every error: a template that does not parse is a usage error
// (exit 2) naming the template and where; one that fails on the data is exit 1 naming the object.
import { describe, expect, it } from 'vitest';
import { goTemplatePrinter } from '../../pkg/cli/go-template-printer.js';
import { CliError, EXIT, exitCodeFor } from '../../pkg/cli/exit.js';

const nic = (name: string, ip?: string) => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic', metadata: { name, labels: { app: 'web' } },
  spec: { node: 'host-1', ifName: 'eth1' }, status: ip ? { ip, prefixLength: 24 } : {},
});
const list = { apiVersion: 'v1', kind: 'List', items: [nic('a', '10.0.0.5'), nic('b')] };
const run = (template: string, data: unknown = list, allowMissingKeys = true) => goTemplatePrinter(template, allowMissingKeys)(data);

/** The error a template raises (parsing or on `data`): its exit code and message. */
function failure(template: string, data: unknown = list, allowMissingKeys = true): { code: number; message: string } {
  try { run(template, data, allowMissingKeys); } catch (e) { return { code: exitCodeFor(e), message: (e as Error).message }; }
  throw new Error(`"${template}" did not fail`);
}

describe('functions', () => {
  it('index: an array element, a map key (one with dots and slashes), nested; a missing key is <no value>', () => {
    expect(run('{{index .items 1 "metadata" "name"}}')).toBe('b');
    expect(run('{{index .metadata.labels "xnet.io/role"}}', { metadata: { labels: { 'xnet.io/role': 'gw' } } })).toBe('gw');
    expect(run('[{{index .metadata.labels "nope"}}]', nic('a'))).toBe('[<no value>]');
  });

  it('slice, Go\'s: part of an array or a string (its bytes); its errors as kubectl says them', () => {
    expect(run('{{slice .a 1 3}}|{{slice "hello" 1}}|{{slice .a}}|{{slice "hello" 1 3}}|{{slice .a 1 2 3}}|{{len (slice .a 4)}}', { a: [1, 'a', null, {}] }))
      .toBe('[a <nil>]|ello|[1 a <nil> map[]]|el|[a]|0');
    expect(failure('{{slice .items 5}}').message).toContain('at <slice .items 5> (character 3): error calling slice: index out of range: 5');
    expect(failure('{{slice .items 2 1}}').message).toContain('error calling slice: invalid slice index: 2 > 1');
    expect(failure('{{slice .kind 0 1 2}}').message).toContain('error calling slice: cannot 3-index slice a string');
    expect(failure('{{slice . 1}}').message).toContain('error calling slice: can\'t slice item of type map[string]interface {}');
    expect(failure('{{slice .nope 1}}').message).toContain('error calling slice: slice of untyped nil');
  });

  it('len of an array, a map, a string (in bytes, as Go counts)', () => {
    expect(run('{{len .items}} {{len .spec}} {{len "héllo"}}', { items: [1, 2, 3], spec: { a: 1 } })).toBe('3 1 6');
  });

  it('and/or return the deciding value and read no further; not negates', () => {
    expect(run('{{and 1 "x" 0 .nope.deeper}}|{{and 1 "x"}}|{{or .nope "" "first" "second"}}|{{or 0 ""}}|{{not .nope}}|{{not 1}}', {})).toBe('0|x|first||true|false');
    // .status.ip is not read for b: the guard is the usual way to skip objects without it
    expect(run('{{range .items}}{{if and .status .status.ip}}{{.status.ip}} {{end}}{{end}}', list, false)).toBe('10.0.0.5 ');
  });

  it('eq (with several values: any of them), ne, lt, le, gt, ge on strings and numbers', () => {
    expect(run('{{eq 1 2 3 1}} {{eq "a" "b"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', {})).toBe('true false true true true true false');
    expect(run('{{range .items}}{{if eq .metadata.name "a" "c"}}{{.metadata.name}}{{end}}{{end}}')).toBe('a');
    // numbers compare by value, int or float, as xctl's jsonpath filters do (Go refuses 24 against 24.0)
    expect(run('{{eq .status.prefixLength 24}} {{eq .status.prefixLength 24.0}} {{lt 1 1.5}}', nic('a', '10.0.0.5'))).toBe('true true true');
    expect(run('{{eq .nope "x"}} {{ne .nope "x"}}', {})).toBe('false true');
  });

  it('print and println as Go\'s fmt.Sprint and Sprintln', () => {
    expect(run('{{print "a" "b" 1 2 "c" 3}}|{{println "x" 1 .nope}}', {})).toBe('ab1 2c3|x 1 <nil>\n');
  });

  it('printf: %s %d %v %q %% and %t %f %x %c, with widths, precision and flags', () => {
    expect(run('{{printf "%s|%d|%v|%q|%%" "s" 42 .spec "q\\"\\n"}}', nic('a'))).toBe('s|42|map[ifName:eth1 node:host-1]|"q\\"\\n"|%');
    expect(run('{{printf "[%-6s][%6s][%04d][%+d][%.2f][%t][%x][%c][%.1s]" "ab" "cd" 7 3 2.345 true 255 65 "xyz"}}', {})).toBe('[ab    ][    cd][0007][+3][2.35][true][ff][A][x]');
    expect(run('{{range .items}}{{printf "%-4s %s\\n" .metadata.name .spec.node}}{{end}}')).toBe('a    host-1\nb    host-1\n');
  });

  it('printf says what does not fit its verbs, as Go does, rather than failing', () => {
    expect(run('{{printf "%d %s %s" "x" 1}}', {})).toBe('%!d(string=x) %!s(int64=1) %!s(MISSING)');
    expect(run('{{printf "%s" "a" "b"}}', {})).toBe('a%!(EXTRA string=b)');
    expect(run('{{printf "%s" .nope}}', {})).toBe('%!s(<nil>)');
  });

  it('exists, kubectl\'s: whether index would find a value, never an error', () => {
    expect(run('{{exists . "status" "ip"}} {{exists . "status" "nope"}} {{exists . "metadata" "labels" "app"}} {{exists . "spec" 0}}', nic('a', '10.0.0.5'))).toBe('true false true false');
    expect(run('{{range .items}}{{if exists .status "ip"}}{{.metadata.name}}{{end}}{{end}} {{exists .items 1}} {{exists .items 2}}')).toBe('a true false');
  });

  it('base64decode, kubectl\'s own function', () => {
    expect(run('{{.data | base64decode}}', { data: 'eG5ldCByb2Nrcw==' })).toBe('xnet rocks');
    expect(failure('{{base64decode "abc"}}', {})).toMatchObject({ code: EXIT.FAILED, message: expect.stringContaining('error calling base64decode: base64 decode failed: illegal base64 data at input byte 0') });
  });
});

describe('parse errors: usage errors, exit 2, naming the template and where', () => {
  const parseError = (template: string, what: string) => {
    expect(() => goTemplatePrinter(template, true)).toThrow(`error parsing template ${JSON.stringify(template)}: ${what}`);
    try { goTemplatePrinter(template, true); } catch (e) { expect(exitCodeFor(e)).toBe(EXIT.USAGE); }
  };

  it('unclosed actions, quotes, parentheses, comments', () => {
    parseError('names: {{.metadata.name', 'unclosed action: "{{" without its "}}" at character 8');
    parseError('{{"abc}}', 'unterminated quoted string at character 3');
    parseError('{{(len .items}}', 'unclosed left paren at character 14');
    parseError('{{len .items)}}', 'unexpected right paren at character 13');
    parseError('{{/* open }}', 'unclosed comment at character 3');
    parseError('{{/* c */ x}}', 'comment ends before closing delimiter at character 8');
    // Go takes a comment only right after "{{" or "{{- " (kubectl: unexpected "/" in command)
    parseError('{{ /* c */}}', 'unrecognized character in action: "/" at character 4');
    parseError('{{-  /* c */}}', 'unrecognized character in action: "/" at character 6');
  });

  it('blocks: {{end}} or {{else}} with nothing to close, an {{if}} or {{range}} without its {{end}}', () => {
    parseError('a{{end}}', 'unexpected {{end}} at character 4');
    parseError('{{else}}', 'unexpected {{else}} at character 3');
    parseError('{{range .items}}{{.x}}', 'unexpected EOF: {{range}} without its {{end}} at character 3');
    parseError('{{if .a}}{{else}}{{else}}{{end}}', 'expected {{end}}; found {{else}} at character 20');
    parseError('{{break}}', '{{break}} outside {{range}} at character 3');
    parseError('{{if}}{{end}}', 'missing value for if at character 5');
    parseError('{{}}', 'missing value for command at character 1');
  });

  it('{{else if}} only in an {{if}}, {{else with}} only in a {{with}}, as Go parses them', () => {
    parseError('{{if .a}}x{{else with .b}}y{{end}}', '{{else with}} in an {{if}}: Go takes {{else if}} in an {{if}} and {{else with}} in a {{with}}, no other at character 13');
    parseError('{{range .a}}x{{else if .b}}y{{end}}', '{{else if}} in a {{range}}: Go takes {{else if}} in an {{if}} and {{else with}} in a {{with}}, no other at character 16');
    parseError('{{with .a}}x{{else if .b}}y{{end}}', '{{else if}} in a {{with}}');
  });

  it('functions and variables must exist when parsed; what xctl does not support says so', () => {
    parseError('{{upper .kind}}', 'function "upper" not defined at character 3');
    parseError('{{$x}}', 'undefined variable "$x" at character 3');
    parseError('{{$x = 1}}', 'undefined variable "$x" at character 3');
    parseError('{{template "t"}}', '{{template}} is not supported by xctl (one template, no named ones) at character 3');
    parseError('{{define "t"}}x{{end}}', '{{define}} is not supported by xctl (one template, no named ones) at character 3');
    parseError('{{.kind | html}}', 'function "html" is not supported by xctl at character 11');
  });

  it('operands: a literal as a later pipeline stage, a field after a literal, bad numbers and characters', () => {
    parseError('{{.a | "x"}}', 'non executable command in pipeline stage 2 at character 8');
    parseError('{{"x".y}}', 'unexpected . after term "\\"x\\"" at character 3');
    parseError('{{3x}}', 'bad number syntax: "3x" at character 3');
    parseError('{{09}}', 'bad number syntax: "09" at character 3');
    parseError('{{.a#}}', 'unrecognized character in action: "#" at character 5');
  });

  it('a template of several lines (a go-template-file=) says the line and the character', () => {
    parseError('{{range .items}}\n  {{.metadata.name}}\n  {{bad}}\n{{end}}\n', 'function "bad" not defined at line 3, character 5');
  });

  it('no template: kubectl\'s words', () => {
    expect(() => goTemplatePrinter('', true)).toThrow('template format specified but no template given: use -o go-template=\'{{.metadata.name}}\'');
  });
});

describe('execution errors: exit 1, naming the template, the object and where', () => {
  it('a missing key with --allow-missing-template-keys=false, in a range: the object it was at', () => {
    expect(failure('{{range .items}}{{.status.ip}} {{end}}', list, false)).toEqual({
      code: EXIT.FAILED,
      message: 'error executing template "{{range .items}}{{.status.ip}} {{end}}" on containernic/b: at <.status.ip> (character 19): map has no entry for key "ip"',
    });
    expect(failure('{{.nope.x}}', nic('a'), false).message).toBe('error executing template "{{.nope.x}}" on containernic/a: at <.nope.x> (character 3): map has no entry for key "nope"');
    // a null held by a variable is no value at all (Go digs into the interface)
    expect(failure('{{$v := .a}}{{$v.x}}', { a: null }, false).message).toBe('error executing template "{{$v := .a}}{{$v.x}}": at <$v.x> (character 15): nil data; no entry for key "x"');
  });

  it('after a {{break}} or {{continue}}, an error names the object it is at, not one left', () => {
    const t = '{{range .items}}{{with .status}}{{if .ip}}{{continue}}{{end}}{{end}}{{end}}{{index .items 9}}';
    expect(failure(t).message).toBe(`error executing template ${JSON.stringify(t)}: at <index .items 9> (character 78): error calling index: index out of range: 9`);
  });

  it('a field of a string or array, of null, and arguments to a field', () => {
    expect(failure('{{.kind.x}}').message).toContain('at <.kind.x> (character 3): can\'t evaluate field x in type string');
    expect(failure('{{.items.x}}').message).toContain('can\'t evaluate field x in type []interface {}');
    expect(failure('{{.a.b}}', { a: null }).message).toContain('nil pointer evaluating interface {}.b');
    expect(failure('{{.kind 1}}').message).toContain('kind is not a method but has arguments');
    expect(failure('{{"x" 1}}').message).toContain('can\'t give argument to non-function "x"');
  });

  it('function errors name the call: index out of range, a wrong index type, wrong arguments, bad comparisons', () => {
    expect(failure('{{index .items 5}}')).toEqual({ code: EXIT.FAILED, message: 'error executing template "{{index .items 5}}": at <index .items 5> (character 3): error calling index: index out of range: 5' });
    expect(failure('{{index .items "a"}}').message).toContain('error calling index: cannot index slice/array with type string');
    expect(failure('{{index .kind.x 0}}', { kind: {} }).message).toContain('error calling index: index of untyped nil');
    expect(failure('{{len 3}}').message).toContain('error calling len: len of type int64');
    expect(failure('{{len}}').message).toContain('at <len> (character 3): wrong number of args for len: want 1 got 0');
    expect(failure('{{lt "a" 1}}').message).toContain('error calling lt: incompatible types for comparison: string and int64');
    expect(failure('{{lt true false}}').message).toContain('error calling lt: invalid type for comparison');
    expect(failure('{{eq .items .items}}').message).toContain('error calling eq: non-comparable type');
    expect(failure('{{printf 1}}').message).toContain('wrong type for value; expected string; got int64');
    expect(failure('{{range .kind}}{{end}}').message).toContain('range can\'t iterate over List');
    expect(failure('{{eq 1}}').message).toContain('at <eq 1> (character 3): error calling eq: missing argument for comparison');
    expect(failure('{{range $i, $e := 3}}{{end}}').message).toContain('can\'t use 3 to iterate over more than one variable');
  });

  it('names the whole call when its arguments are quoted strings (the snippet is cut at the closing quote)', () => {
    expect(failure('{{index .metadata.nope "a"}}', nic('a')).message).toContain('at <index .metadata.nope "a"> (character 3): error calling index: index of untyped nil');
    expect(failure('{{eq .kind "x" `y` 1}}').message).toContain('at <eq .kind "x" `y` 1> (character 3)');
    expect(failure('{{lt "a\\tb" 1}}').message).toContain('at <lt "a\\tb" 1> (character 3)');
  });

  it('is a CliError with exit 1, the jsonpath one\'s class', () => {
    try { run('{{index .items 9}}'); } catch (e) { expect(e).toBeInstanceOf(CliError); }
  });
});
