// `xctl get -o go-template=TEMPLATE` and `-o go-template-file=PATH` as a kubectl user scripts
// them, against a real etcd, in-process through runXctl: what the user sees (stdout, exit code,
// stderr). The template language itself is test/unit/go-template*.test.ts's.
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { xctlInProcess, type XctlOptions, type XctlRun } from '../harness/xctl-in-process.js';
import { EventRecorder } from '../../pkg/events/recorder.js';

const lab = xctlInProcess('xnet-go-template');
const xctl = (args: string[], opts?: XctlOptions) => lab.xctl(args, opts);
const down = { endpoints: 'http://127.0.0.1:1' };

const V = 'apiVersion: xnet.io/v1alpha1';
const node = (name: string, rack: string, address?: string) =>
  `${V}\nkind: Node\nmetadata:\n  name: ${name}\n  labels: {xnet.io/rack: ${rack}, rack: ${rack}}\nspec: {${address ? `address: ${address}` : ''}}\n`;
const seed = [
  `${V}\nkind: ClusterNetwork\nmetadata:\n  name: gt\nspec:\n  cidr: 10.232.0.0/16\n  hostPrefix: 24\n`,
  node('gt-1', 'r1', '198.18.0.21'),
  node('gt-2', 'r2', '198.18.0.22'),
].join('---\n');

beforeAll(async () => {
  expect((await xctl(['apply', '-f', '-'], { stdin: seed })).code).toBe(0);
});

describe('get -o go-template=TEMPLATE', () => {
  it('a name a line over the List of a kind, as kubectl\'s', async () => {
    expect(await xctl(['get', 'nodes', '-o', 'go-template={{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}'])).toEqual({ code: 0, out: 'gt-1\ngt-2\n', err: '' });
  });

  it('one NAME: the object itself; -o=, --output= and -l as in kubectl', async () => {
    expect(await xctl(['get', 'node', 'gt-1', '-o', 'go-template={{.metadata.name}} at {{.spec.address}}'])).toEqual({ code: 0, out: 'gt-1 at 198.18.0.21', err: '' });
    expect((await xctl(['get', 'no/gt-2', '-o=go-template={{index .metadata.labels "xnet.io/rack"}}'])).out).toBe('r2');
    expect((await xctl(['get', 'no', '-l', 'rack=r2', '--output=go-template={{range .items}}{{.spec.address}}{{end}}'])).out).toBe('198.18.0.22');
  });

  it('several NAMEs or kinds: once, over one List, in the order given', async () => {
    expect((await xctl(['get', 'no', 'gt-2', 'gt-1', '-o', 'go-template={{len .items}}:{{range .items}} {{.metadata.name}}{{end}}'])).out).toBe('2: gt-2 gt-1');
    expect(await xctl(['get', 'cn,no', '-o', 'go-template={{.kind}}{{range .items}} {{.kind}}{{end}}'])).toEqual({ code: 0, out: 'List ClusterNetwork Node Node', err: '' });
  });

  it('kubectl\'s --template: the template apart from -o go-template (or jsonpath, or a -file form\'s path); alone, a go-template', async () => {
    expect(await xctl(['get', 'no', 'gt-1', '-o', 'go-template', '--template', '{{.metadata.name}}'])).toEqual({ code: 0, out: 'gt-1', err: '' });
    expect(await xctl(['get', 'no', 'gt-2', '--template={{.spec.address}}'])).toEqual({ code: 0, out: '198.18.0.22', err: '' });
    expect((await xctl(['get', 'no', 'gt-1', '-o', 'jsonpath', '--template', '{.metadata.labels.rack}'])).out).toBe('r1');
    expect((await xctl(['get', 'no', 'gt-1', '-o', 'go-template-file', '--template', lab.file('name.tmpl', '{{.kind}}')])).out).toBe('Node');
    expect((await xctl(['get', 'ev', '-o', 'go-template', '--template', '{{.kind}}'])).out).toBe('List');
    expect(await xctl(['get', 'no', '-o', 'yaml', '--template', '{{.kind}}'], down)).toEqual({ code: 2, out: '', err: 'error: --template is for -o go-template, go-template-file, jsonpath and jsonpath-file, not -o yaml\n' });
  });

  it('if/else, variables, printf and numbers as integers (eq with 24 holds)', async () => {
    const tpl = '{{range $i, $n := .items}}{{$i}} {{printf "%-5s" $n.metadata.name}}|{{if eq $n.metadata.name "gt-1"}}first{{else}}other{{end}}\n{{end}}';
    expect((await xctl(['get', 'no', '-o', `go-template=${tpl}`])).out).toBe('0 gt-1 |first\n1 gt-2 |other\n');
    expect((await xctl(['get', 'cn', 'gt', '-o', 'go-template={{.spec.hostPrefix}} {{if eq .spec.hostPrefix 24}}/24{{end}} {{.metadata.generation}}'])).out).toBe('24 /24 1');
  });

  it('a missing NAME is said, the others printed, exit 4; only missing NAMEs print nothing', async () => {
    expect(await xctl(['get', 'no', 'gt-1', 'nope', '-o', 'go-template={{range .items}}{{.metadata.name}}{{end}}'])).toEqual({ code: 4, out: 'gt-1', err: 'error: Node "nope" not found\n' });
    expect(await xctl(['get', 'no', 'nope', '-o', 'go-template={{.metadata.name}}'])).toEqual({ code: 4, out: '', err: 'error: Node "nope" not found\n' });
  });
});

describe('missing keys and errors while printing', () => {
  it('a missing field prints <no value>, exit 0, as kubectl\'s go-template prints it', async () => {
    expect(await xctl(['get', 'no', 'gt-1', '-o', 'go-template=[{{.spec.nope}}]'])).toEqual({ code: 0, out: '[<no value>]', err: '' });
  });

  it('--allow-missing-template-keys=false: exit 1 naming the template, the object and the key; nothing printed', async () => {
    const r = await xctl(['get', 'no', '-o', 'go-template={{range .items}}{{.metadata.name}} {{.status.nope}}{{end}}', '--allow-missing-template-keys=false']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error: error executing template "\{\{range \.items\}\}\{\{\.metadata\.name\}\} \{\{\.status\.nope\}\}\{\{end\}\}" on node\/gt-1: at <\.status\.nope> \(character 38\): map has no entry for key "status"\n$/);
  });

  it('a function that fails on the data (an index out of range): exit 1, the call named', async () => {
    expect(await xctl(['get', 'no', '-o', 'go-template={{(index .items 7).metadata.name}}'])).toEqual({
      code: 1, out: '', err: 'error: error executing template "{{(index .items 7).metadata.name}}": at <index .items 7> (character 4): error calling index: index out of range: 7\n',
    });
  });
});

describe('usage errors, exit 2, etcd not read', () => {
  it('a template that does not parse names the template and the character', async () => {
    expect(await xctl(['get', 'no', '-o', 'go-template={{range .items}}{{.metadata.name}}'], down)).toEqual({
      code: 2, out: '', err: 'error: error parsing template "{{range .items}}{{.metadata.name}}": unexpected EOF: {{range}} without its {{end}} at character 3\n',
    });
    expect(await xctl(['get', 'no', '-o', 'go-template={{.metadata.name | upper}}'], down)).toEqual({
      code: 2, out: '', err: 'error: error parsing template "{{.metadata.name | upper}}": function "upper" not defined at character 20\n',
    });
  });

  it('no template: kubectl\'s words', async () => {
    expect(await xctl(['get', 'no', '-o', 'go-template'], down)).toEqual({ code: 2, out: '', err: 'error: template format specified but no template given: use -o go-template=\'{{.metadata.name}}\'\n' });
  });
});

describe('get -o go-template-file=PATH', () => {
  it('runs the file\'s template, several lines with trim markers, as kubectl reads it', async () => {
    const path = lab.file('nodes.tmpl', '{{- /* a node a line */ -}}\n{{ range .items -}}\n  {{ .metadata.name }}={{ .spec.address }}\n{{ end -}}\n');
    expect(await xctl(['get', 'no', '-o', `go-template-file=${path}`])).toEqual({ code: 0, err: '', out: 'gt-1=198.18.0.21\ngt-2=198.18.0.22\n' });
  });

  it('an unreadable file, none given, or one that does not parse: exit 2 naming it, etcd not read', async () => {
    const missing = `${lab.dir}/nope.tmpl`;
    expect(await xctl(['get', 'no', '-o', `go-template-file=${missing}`], down)).toEqual({ code: 2, out: '', err: `error: -o go-template-file: cannot read "${missing}": no such file or directory\n` });
    expect(await xctl(['get', 'no', '-o', 'go-template-file'], down)).toEqual({ code: 2, out: '', err: 'error: go-template-file format specified but no file given: use -o go-template-file=PATH\n' });
    const bad = lab.file('bad.tmpl', '{{range .items}}\n  {{.metadata.name}\n{{end}}\n');
    expect(await xctl(['get', 'no', '-o', `go-template-file=${bad}`], down)).toEqual({
      code: 2, out: '', err: 'error: error parsing template "{{range .items}}\\n  {{.metadata.name}\\n{{end}}\\n": unrecognized character in action: "}" at line 2, character 19\n',
    });
  });
});

describe('get -w and get events', () => {
  it('-w runs the template on each listed object, then on each change', async () => {
    const r = await watchUntil(['get', 'no', '-w', '-o', 'go-template={{.metadata.name}}={{.spec.address}}{{"\\n"}}'], 'gt-9=198.18.0.29\n',
      () => xctl(['apply', '-f', '-'], { stdin: node('gt-9', 'r9', '198.18.0.29') }));
    expect(r).toEqual({ code: 0, out: 'gt-1=198.18.0.21\ngt-2=198.18.0.22\ngt-9=198.18.0.29\n', err: '' });
  });

  it('-w: an object the template fails on ends the watch with the error naming it, exit 1', async () => {
    const ac = new AbortController();
    onTestFinished(() => ac.abort());
    const args = ['get', 'no', '-l', 'rack=r1', '-w', '-o', 'go-template={{.spec.address}}{{"\\n"}}', '--allow-missing-template-keys=false'];
    let listed!: () => void;
    const listRead = new Promise<void>((r) => { listed = r; });
    const watching = xctl(args, { signal: ac.signal, onOut: (all) => { if (all.length) listed(); } });
    await listRead;
    expect((await xctl(['apply', '-f', '-'], { stdin: node('gt-8', 'r1') })).code).toBe(0);
    expect(await watching).toEqual({
      code: 1, out: '198.18.0.21\n',
      err: 'error: error executing template "{{.spec.address}}{{\\"\\\\n\\"}}" on node/gt-8: at <.spec.address> (character 3): map has no entry for key "address"\n',
    });
  });

  it('get events: over the List of events, and on each event a watch prints', async () => {
    const rec = new EventRecorder({ client: lab.etcd.client(), source: { component: 'controller' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'Node', name: 'gt-1' }, 'Warning', 'AddressInUse', 'address taken');
    const tpl = 'go-template={{range .items}}{{if eq .type "Warning"}}{{.reason}} {{.involvedObject.name}} x{{.count}}{{"\\n"}}{{end}}{{end}}';
    expect(await xctl(['get', 'events', '-o', tpl])).toEqual({ code: 0, out: 'AddressInUse gt-1 x1\n', err: '' });
    const r = await watchUntil(['get', 'ev', '-w', '-o', 'go-template={{.reason}}:{{.type}}{{"\\n"}}'], 'Joined:Normal\n',
      () => rec.record({ kind: 'Node', name: 'gt-2' }, 'Normal', 'Joined', 'node gt-2 reported itself'));
    expect(r).toEqual({ code: 0, out: 'AddressInUse:Warning\nJoined:Normal\n', err: '' });
  });
});

/** Runs the watch `args`, makes `change` once the list was printed, and stops the watch once `end` was printed. */
async function watchUntil(args: string[], end: string, change: () => Promise<unknown>): Promise<XctlRun> {
  const ac = new AbortController();
  onTestFinished(() => ac.abort());
  let listed!: () => void;
  const listRead = new Promise<void>((r) => { listed = r; });
  const watching = xctl(args, { signal: ac.signal, onOut: (all) => { if (all.length) listed(); if (all.endsWith(end)) ac.abort(); } });
  await listRead;
  await change();
  return watching;
}
