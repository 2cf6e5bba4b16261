// The template engine of `xctl get -o go-template=TEMPLATE` (pkg/cli/go-template*.ts), without
// etcd: Go's text/template over the data kubectl gives it (the object, or the List `get -o json`
// prints), each construct on its own. Errors are test/unit/go-template-errors.test.ts's.
import { describe, expect, it } from 'vitest';
import { goTemplatePrinter } from '../../pkg/cli/go-template-printer.js';

const node = (name: string, address: string | undefined, labels: Record<string, string> = {}) => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'Node',
  metadata: { name, generation: 2, labels },
  spec: address ? { address } : {},
  status: { conditions: [{ type: 'Ready', status: name === 'n1' ? 'True' : 'False' }] },
});
const n1 = node('n1', '198.18.0.11', { 'xnet.io/rack': 'r1', tier: 'edge' });
const n2 = node('n2', undefined);
const list = { apiVersion: 'v1', kind: 'List', items: [n1, n2] };

/** What the template prints for `data` (the List unless said), missing keys allowed as kubectl's default. */
const run = (template: string, data: unknown = list, allowMissingKeys = true) => goTemplatePrinter(template, allowMissingKeys)(data);

describe('text, fields and dot', () => {
  it('prints text as it is and a field chain of maps', () => {
    expect(run('node {{.metadata.name}} at {{.spec.address}}!', n1)).toBe('node n1 at 198.18.0.11!');
    expect(run('a } stray {brace}', n1)).toBe('a } stray {brace}');
    expect(run('{{.kind}}')).toBe('List');
  });

  it('a missing key prints <no value>, as Go prints a map\'s, and so does what follows it', () => {
    expect(run('[{{.spec.address}}]', n2)).toBe('[<no value>]');
    expect(run('[{{.nope.deeper.still}}]', n2)).toBe('[<no value>]');
  });

  it('{{.}} is the current value: a map prints as Go prints one, keys sorted; an array as [a b]', () => {
    expect(run('{{.}}', { b: 1, a: 'x' })).toBe('map[a:x b:1]');
    expect(run('{{.metadata.labels}}', n1)).toBe('map[tier:edge xnet.io/rack:r1]');
    expect(run('{{range .items}}{{.metadata.name}}{{end}} {{.apiVersion}}')).toBe('n1n2 v1');
    expect(run('{{.}}', { a: [1, 'x', null, { k: true }] })).toBe('map[a:[1 x <nil> map[k:true]]]');
  });

  it('numbers print as kubectl decodes them: a whole number as an int64, any other as Go prints a float64', () => {
    expect(run('{{.metadata.generation}}', n1)).toBe('2');
    expect(run('{{.a}} {{.b}} {{.c}} {{.d}} {{.e}} {{.f}}', { a: 16777216, b: 0.5, c: 1234567.5, d: 0.00001, e: -3, f: 123456.5 }))
      .toBe('16777216 0.5 1.2345675e+06 1e-05 -3 123456.5');
    expect(run('{{3}} {{3.0}} {{1.5e3}} {{0x1F}} {{-7}} {{\'a\'}}', {})).toBe('3 3 1500 31 -7 97');
    // a leading 0 is octal in Go, as 0o is (kubectl prints 15 for {{017}})
    expect(run('{{017}} {{0o17}} {{-017}} {{0}} {{0.5}} {{01.5}}', {})).toBe('15 15 -15 0 0.5 1.5');
  });

  it('a JSON null is <no value> when printed, <nil> inside a map or an array, as in Go', () => {
    expect(run('{{.a}} {{.}}', { a: null })).toBe('<no value> map[a:<nil>]');
  });

  it('$ is the data the template started with, also inside range and with', () => {
    expect(run('{{range .items}}{{.metadata.name}}/{{$.kind}} {{end}}')).toBe('n1/List n2/List ');
    expect(run('{{with .metadata}}{{$.kind}}:{{.name}}{{end}}', n1)).toBe('Node:n1');
  });
});

describe('range', () => {
  it('the body once per element, each the current value', () => {
    expect(run('{{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}')).toBe('n1\nn2\n');
  });

  it('$i, $e := gives the index and the element; over a map, the key and the value in key order', () => {
    expect(run('{{range $i, $e := .items}}{{$i}}={{$e.metadata.name}} {{end}}')).toBe('0=n1 1=n2 ');
    expect(run('{{range $k, $v := .metadata.labels}}{{$k}}={{$v}};{{end}}', n1)).toBe('tier=edge;xnet.io/rack=r1;');
    expect(run('{{range $e := .items}}{{$e.metadata.name}}{{end}}')).toBe('n1n2');
  });

  it('{{else}} runs when there is nothing to go over: empty, missing or null', () => {
    expect(run('{{range .items}}x{{else}}none{{end}}', { items: [] })).toBe('none');
    expect(run('{{range .nope}}x{{else}}none{{end}}', {})).toBe('none');
    expect(run('{{range .items}}x{{else}}none{{end}}', { items: null })).toBe('none');
  });

  it('nested ranges, {{break}} and {{continue}}, and an integer as 0..n-1 (Go 1.22)', () => {
    expect(run('{{range .items}}{{range .status.conditions}}{{.type}}={{.status}} {{end}}{{end}}')).toBe('Ready=True Ready=False ');
    expect(run('{{range .items}}{{if eq .metadata.name "n2"}}{{break}}{{end}}{{.metadata.name}}{{end}}')).toBe('n1');
    expect(run('{{range .items}}{{if eq .metadata.name "n1"}}{{continue}}{{end}}{{.metadata.name}}{{end}}')).toBe('n2');
    expect(run('{{range 3}}{{.}}{{end}}', {})).toBe('012');
    // counted as it goes, not listed first: a break ends a range over a huge number at once
    expect(run('{{range $i := 1000000000000}}{{if eq $i 2}}{{break}}{{end}}{{$i}}{{end}}', {})).toBe('01');
  });
});

describe('if, else if, with', () => {
  const readyText = '{{range .items}}{{.metadata.name}}:{{if .spec.address}}{{.spec.address}}{{else if eq .metadata.name "n2"}}none{{else}}?{{end}} {{end}}';
  it('if/else if/else/end', () => {
    expect(run(readyText)).toBe('n1:198.18.0.11 n2:none ');
    expect(run('{{if .nope}}a{{else if .kind}}b{{else}}c{{end}}')).toBe('b');
    expect(run('{{if .nope}}a{{else if .nope2}}b{{else}}c{{end}}')).toBe('c');
  });

  it('Go\'s truth: false, 0, "", nil, missing, an empty map or array are false; anything else true', () => {
    const t = (v: unknown) => run('{{if .v}}T{{else}}F{{end}}', { v });
    expect([false, 0, 0.0, '', null, {}, []].map(t).join('')).toBe('FFFFFFF');
    expect([true, 1, -0.5, 'x', { a: 1 }, [0]].map(t).join('')).toBe('TTTTTT');
    expect(run('{{if .missing}}T{{else}}F{{end}}', {})).toBe('F');
  });

  it('with sets dot to its value, and runs {{else}} (or else with) when it is empty', () => {
    expect(run('{{with .spec.address}}at {{.}}{{end}}', n1)).toBe('at 198.18.0.11');
    expect(run('{{with .spec.address}}at {{.}}{{else}}no address{{end}}', n2)).toBe('no address');
    expect(run('{{with .spec.address}}{{.}}{{else with .metadata.name}}name {{.}}{{end}}', n2)).toBe('name n2');
  });
});

describe('variables', () => {
  it('$x := declares, $x = assigns (also from inside a block), and the action prints nothing', () => {
    expect(run('{{$n := .metadata.name}}[{{$n}}]', n1)).toBe('[n1]');
    expect(run('{{$c := 0}}{{range .items}}{{$c = .metadata.name}}{{end}}{{$c}}')).toBe('n2');
  });

  it('a variable declared in a block ends at its {{end}}, one declared by if lives in both branches', () => {
    expect(run('{{if $a := .spec.address}}{{$a}}{{else}}none: {{$a}}{{end}}', n2)).toBe('none: <no value>');
    expect(() => run('{{if true}}{{$x := 1}}{{end}}{{$x}}', {})).toThrow('undefined variable "$x"');
  });

  it('a field chain on a variable, $.field, and a variable holding a map', () => {
    expect(run('{{$m := .metadata}}{{$m.name}} {{$.kind}} {{$m.labels.tier}}', n1)).toBe('n1 Node edge');
  });
});

describe('pipelines and parentheses', () => {
  it('a pipeline passes its value as the last argument of the next command', () => {
    expect(run('{{.metadata.name | printf "<%s>"}}', n1)).toBe('<n1>');
    expect(run('{{len .items | printf "%d nodes"}}')).toBe('2 nodes');
    expect(run('{{.metadata.name | printf "%s-%s" "x"}}', n1)).toBe('x-n1');
  });

  it('a parenthesized pipeline is one argument, and a field chain may follow it', () => {
    expect(run('{{(index .items 1).metadata.name}}')).toBe('n2');
    expect(run('{{printf "%s/%s" (index .items 0).kind (.metadata.name)}}', { metadata: { name: 'x' }, items: [n1] })).toBe('Node/x');
  });
});

describe('trim markers and comments', () => {
  it('{{- trims the white space before, -}} the white space after (newlines included)', () => {
    expect(run('a  \n {{- .kind -}} \n\t b', {})).toBe('a<no value>b');
    expect(run('{{range .items -}}\n  {{.metadata.name}}\n{{- end}}')).toBe('n1n2');
    expect(run('x {{-3}} y', {})).toBe('x -3 y');
  });

  it('comments print nothing, with or without trim markers', () => {
    expect(run('a{{/* a comment, {{ inside */}}b', {})).toBe('ab');
    expect(run('a \n{{- /* trimmed */ -}}\n b', {})).toBe('ab');
  });
});

describe('literals', () => {
  it('strings with Go\'s escapes, raw strings, booleans, nil where a value is compared', () => {
    expect(run('{{"tab\\there\\u00e9\\x41"}}|{{`raw\\n`}}|{{true}}|{{false}}', {})).toBe('tab\there\u00e9A|raw\\n|true|false');
    expect(run('{{eq .nope nil}} {{eq .a nil}} {{eq .kind nil}}', { a: null, kind: 'K' })).toBe('true true false');
  });
});
