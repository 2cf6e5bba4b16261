// `xctl get -o jsonpath=TEMPLATE` as a kubectl user scripts it, against a real etcd, in-process
// through runXctl: what the user sees (stdout, exit code, stderr). The template language itself
// is test/unit/jsonpath.test.ts's.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { xctlInProcess, type XctlOptions, type XctlRun } from '../harness/xctl-in-process.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { Keys } from '../../pkg/store/keys.js';

const lab = xctlInProcess('xnet-jsonpath');
const xctl = (args: string[], opts?: XctlOptions) => lab.xctl(args, opts);

const V = 'apiVersion: xnet.io/v1alpha1';
const node = (name: string, rack: string, address?: string) =>
  `${V}\nkind: Node\nmetadata:\n  name: ${name}\n  labels: {xnet.io/rack: ${rack}, rack: ${rack}}\nspec: {${address ? `address: ${address}` : ''}}\n`;
const seed = [
  `${V}\nkind: ClusterNetwork\nmetadata:\n  name: jp\nspec:\n  cidr: 10.231.0.0/16\n  hostPrefix: 24\n`,
  node('jp-1', 'r1', '198.18.0.11'),
  node('jp-2', 'r2', '198.18.0.12'),
  `${V}\nkind: ContainerNic\nmetadata:\n  name: web-1\nspec:\n  node: jp-1\n  container: web\n  ifName: eth1\n  network: {clusterNetwork: jp}\n`,
].join('---\n');

beforeAll(async () => {
  expect((await xctl(['apply', '-f', '-'], { stdin: seed })).code).toBe(0);
});

describe('get -o jsonpath=TEMPLATE', () => {
  it('runs the template on the object for one NAME', async () => {
    expect(await xctl(['get', 'nic', 'web-1', '-o', 'jsonpath={.spec.node}'])).toEqual({ code: 0, out: 'jp-1', err: '' });
    expect(await xctl(['get', 'nic/web-1', '-o', 'jsonpath={.kind}/{.metadata.name} on {.spec.network.clusterNetwork}{"\\n"}'])).toEqual({ code: 0, out: 'ContainerNic/web-1 on jp\n', err: '' });
  });

  it('runs it on the List -o json prints for a kind: range, tabs and newlines', async () => {
    const r = await xctl(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.address}{"\\n"}{end}']);
    expect(r).toEqual({ code: 0, out: 'jp-1\t198.18.0.11\njp-2\t198.18.0.12\n', err: '' });
  });

  it('several results of one action are separated by a space; -o=, --output= and -l as in kubectl', async () => {
    expect((await xctl(['get', 'no', '-o=jsonpath={.items[*].metadata.name}'])).out).toBe('jp-1 jp-2');
    expect((await xctl(['get', 'no', '--output=jsonpath={.items[*].spec.address}'])).out).toBe('198.18.0.11 198.18.0.12');
    expect((await xctl(['get', 'no', '-l', 'rack=r2', '-o', "jsonpath={.items[*].metadata.labels['xnet.io/rack']}"])).out).toBe('r2');
    expect((await xctl(['get', 'no', '-o', 'jsonpath={.items[?(@.spec.address=="198.18.0.12")].metadata.name}'])).out).toBe('jp-2');
  });

  it('several NAMEs or kinds: one List, in the order given', async () => {
    expect(await xctl(['get', 'no', 'jp-2', 'jp-1', '-o', 'jsonpath={.items[*].metadata.name}'])).toEqual({ code: 0, out: 'jp-2 jp-1', err: '' });
    expect(await xctl(['get', 'cn,no', '-o', 'jsonpath={.kind}:{.items[*].kind}'])).toEqual({ code: 0, out: 'List:ClusterNetwork Node Node', err: '' });
  });

  it('a missing NAME is said, the others printed, exit 4; only missing NAMEs print nothing', async () => {
    expect(await xctl(['get', 'nic', 'web-1', 'nope', '-o', 'jsonpath={.items[*].metadata.name}'])).toEqual({ code: 4, out: 'web-1', err: 'error: ContainerNic "nope" not found\n' });
    expect(await xctl(['get', 'nic', 'nope', '-o', 'jsonpath={.spec.node}{"\\n"}'])).toEqual({ code: 4, out: '', err: 'error: ContainerNic "nope" not found\n' });
  });
});

describe('missing keys and errors while printing', () => {
  it('a missing field prints nothing, exit 0 (kubectl\'s --allow-missing-template-keys=true)', async () => {
    expect(await xctl(['get', 'nic', 'web-1', '-o', 'jsonpath=[{.nope}]'])).toEqual({ code: 0, out: '[]', err: '' });
  });

  it('--allow-missing-template-keys=false: exit 1 naming the template and the key, nothing printed', async () => {
    const r = await xctl(['get', 'nic', 'web-1', '-o', 'jsonpath=x{.nope}', '--allow-missing-template-keys=false']);
    expect(r).toEqual({ code: 1, out: '', err: 'error: error executing jsonpath "x{.nope}": nope is not found\n' });
    expect((await xctl(['get', 'nic', 'web-1', '-o', 'jsonpath={.spec.node}', '--allow-missing-template-keys=false'])).out).toBe('jp-1');
  });

  it('an index out of range is an error either way, as in kubectl', async () => {
    const r = await xctl(['get', 'no', '-o', 'jsonpath={.items[5].metadata.name}']);
    expect(r).toEqual({ code: 1, out: '', err: 'error: error executing jsonpath "{.items[5].metadata.name}": array index out of bounds: index 5, length 2\n' });
  });
});

describe('usage errors, exit 2', () => {
  it('a template that does not parse: the template and the character, nothing else; etcd is not read', async () => {
    const r = await xctl(['get', 'no', '-o', 'jsonpath={.items[0'], { endpoints: 'http://127.0.0.1:1' });
    expect(r).toEqual({ code: 2, out: '', err: 'error: error parsing jsonpath "{.items[0": unterminated "[": no "]" at character 8\n' });
    expect(await xctl(['get', 'no', '-o', 'jsonpath=names: {.items[*].metadata.name'])).toEqual({
      code: 2, out: '', err: 'error: error parsing jsonpath "names: {.items[*].metadata.name": unclosed action: "{" without its "}" at character 8\n',
    });
  });

  it('no template, an unknown format, the flag without jsonpath', async () => {
    expect(await xctl(['get', 'no', '-o', 'jsonpath'])).toEqual({ code: 2, out: '', err: 'error: template format specified but no template given: use -o jsonpath=\'{.metadata.name}\'\n' });
    expect((await xctl(['get', 'no', '-o', 'jsonpath-as-json={.x}'])).err).toBe('error: unknown output format "jsonpath-as-json={.x}"; use wide, yaml, json, name, jsonpath=TEMPLATE, jsonpath-file=PATH, go-template=TEMPLATE, go-template-file=PATH, custom-columns=SPEC or custom-columns-file=PATH\n');
    expect(await xctl(['get', 'no', '-o', 'json', '--allow-missing-template-keys=false'])).toMatchObject({ code: 2, out: '', err: 'error: --allow-missing-template-keys is for -o jsonpath=TEMPLATE and -o go-template=TEMPLATE\n' });
    expect((await xctl(['get', 'no', '-o', 'jsonpath={.x}', '--allow-missing-template-keys=maybe'])).code).toBe(2);
  });
});

describe('get -w -o jsonpath', () => {
  it('prints the template for each listed object, then for each change', async () => {
    const r = await watchUntil(['get', 'no', '-w', '-o', 'jsonpath={.metadata.name}={.spec.address}{"\\n"}'], 'jp-9=198.18.0.19\n',
      () => xctl(['apply', '-f', '-'], { stdin: node('jp-9', 'r9', '198.18.0.19') }));
    expect(r.code).toBe(0);
    expect(r.out).toBe('jp-1=198.18.0.11\njp-2=198.18.0.12\njp-9=198.18.0.19\n');
  });

  it('an object the template fails on ends the watch with the error, exit 1', async () => {
    const args = ['get', 'no', '-l', 'rack=r1', '-w', '-o', 'jsonpath={.spec.address}{"\\n"}', '--allow-missing-template-keys=false'];
    const r = await watchUntil(args, undefined, () => xctl(['apply', '-f', '-'], { stdin: node('jp-8', 'r1') }));
    expect(r).toEqual({ code: 1, out: '198.18.0.11\n', err: 'error: error executing jsonpath "{.spec.address}{\\"\\\\n\\"}": address is not found\n' });
  });
});

describe('get events -o jsonpath', () => {
  it('runs the template on the List of events -o json prints, and on each event a watch prints', async () => {
    const rec = new EventRecorder({ client: lab.etcd.client(), source: { component: 'controller' } });
    onTestFinished(() => rec.close());
    await rec.record({ kind: 'ContainerNic', name: 'web-1' }, 'Normal', 'Allocated', 'address 10.231.1.2 allocated');
    const tpl = 'jsonpath={range .items[*]}{.reason} {.involvedObject.name}{"\\n"}{end}';
    expect(await xctl(['get', 'events', '-o', tpl])).toEqual({ code: 0, out: 'Allocated web-1\n', err: '' });
    expect(await xctl(['get', 'ev', '--for', 'nic/web-1', '-o', 'jsonpath={.items[0].type}'])).toEqual({ code: 0, out: 'Normal', err: '' });
    const r = await watchUntil(['get', 'events', '-w', '-o', 'jsonpath={.reason}:{.type}{"\\n"}'], 'Joined:Normal\n',
      () => rec.record({ kind: 'Node', name: 'jp-1' }, 'Normal', 'Joined', 'node jp-1 reported itself'));
    expect(r).toEqual({ code: 0, out: 'Allocated:Normal\nJoined:Normal\n', err: '' });
  });

  it('refuses a bad template before reading, and fails on a missing key with =false, as get KIND does', async () => {
    expect(await xctl(['get', 'events', '-o', 'jsonpath={.items[*'])).toMatchObject({ code: 2, out: '' });
    expect(await xctl(['get', 'events', '-o', 'jsonpath={.nope}', '--allow-missing-template-keys=false'])).toEqual({
      code: 1, out: '', err: 'error: error executing jsonpath "{.nope}": nope is not found\n',
    });
    expect(await xctl(['get', 'events', '-o', 'yaml', '--allow-missing-template-keys'])).toMatchObject({ code: 2, err: 'error: --allow-missing-template-keys is for -o jsonpath=TEMPLATE and -o go-template=TEMPLATE\n' });
    expect(await xctl(['get', 'events', '-o', 'table'])).toEqual({ code: 2, out: '', err: 'error: unknown output format "table" for events; use wide, json, yaml, name, jsonpath=TEMPLATE, jsonpath-file=PATH, go-template=TEMPLATE, go-template-file=PATH, custom-columns=SPEC or custom-columns-file=PATH\n' });
  });
});

/**
 * Runs the watch `args`, makes `change` once the list was printed, and stops the watch once
 * `end` was printed after it, or its output passes `end` (none: the watch is to end on its own).
 */
async function watchUntil(args: string[], end: string | ((out: string) => boolean) | undefined, change: () => Promise<unknown>): Promise<XctlRun> {
  const ac = new AbortController();
  onTestFinished(() => ac.abort());
  let listed!: () => void;
  const listRead = new Promise<void>((r) => { listed = r; });
  const watching = xctl(args, {
    signal: ac.signal,
    onOut: (all) => { if (all.length) listed(); if (typeof end === 'function' ? end(all) : end && all.endsWith(end)) ac.abort(); },
  });
  await listRead;
  await change();
  return watching;
}

describe('get -o custom-columns=SPEC', () => {
  it('prints the columns asked for, aligned as a table; a field not there is <none>', async () => {
    const r = await xctl(['get', 'no', 'jp-1', 'jp-2', '-o', "custom-columns=NAME:.metadata.name,RACK:.metadata.labels['xnet.io/rack'],ADDR:{.spec.address},MISSING:.spec.nope"]);
    expect(r).toEqual({ code: 0, err: '', out: 'NAME   RACK   ADDR          MISSING\njp-1   r1     198.18.0.11   <none>\njp-2   r2     198.18.0.12   <none>\n' });
  });

  it('several results are joined by ","; --no-headers and -l as for any table; several kinds one table each', async () => {
    expect((await xctl(['get', 'no', 'jp-2', '--no-headers', '-o', 'custom-columns=N:metadata.name'])).out).toBe('jp-2\n');
    expect((await xctl(['get', 'no', '-l', 'rack=r2', '--no-headers', '-o', 'custom-columns=N:metadata.name'])).out).toMatch(/^jp-2\n/);
    expect((await xctl(['get', 'cn', 'jp', '-o', 'custom-columns=KEYS:.spec.*'])).out).toMatch(/^KEYS\n.*10\.231\.0\.0\/16.*,.*24.*\n$/);
    expect((await xctl(['get', 'cn,nic', '-o', 'custom-columns=NAME:.metadata.name'])).out).toBe('NAME\njp\n\nNAME\nweb-1\n');
  });

  it('a spec without HEADER:FIELD, or an empty one, is a usage error before etcd is read, exit 2', async () => {
    expect(await xctl(['get', 'no', '-o', 'custom-columns=NAME'])).toMatchObject({ code: 2, out: '', err: expect.stringContaining('unexpected custom-columns spec: "NAME", expected <header>:<json-path-expr>') });
    expect(await xctl(['get', 'no', '-o', 'custom-columns='])).toMatchObject({ code: 2, err: expect.stringContaining('no custom columns given') });
    expect(await xctl(['get', 'no', '-o', 'custom-columns=A:.x[']).then((r) => r.code)).toBe(2);
  });
});

describe('get --show-labels', () => {
  it('ends each table with a LABELS column, once (a Node\'s wide table has one already); not with other formats', async () => {
    const r = await xctl(['get', 'no', 'jp-1', 'jp-2', '--show-labels']);
    expect(r.code, r.err).toBe(0);
    const [header, row1] = r.out.split('\n');
    expect(header).toMatch(/\sLABELS$/);
    expect(row1).toMatch(/^jp-1\s.*\sxnet\.io\/rack=r1,rack=r1$/);
    const wide = (await xctl(['get', 'no', 'jp-1', '-o', 'wide', '--show-labels'])).out.split('\n')[0];
    expect(wide.match(/LABELS/g)).toHaveLength(1);
    expect((await xctl(['get', 'nic', 'web-1', '--show-labels'])).out).toMatch(/\s<none>\n$/);
    expect(await xctl(['get', 'no', '-o', 'json', '--show-labels'])).toMatchObject({ code: 2, err: expect.stringContaining('--show-labels is for the table') });
  });
});

describe('get events -o name, wide and custom-columns', () => {
  // events about jp-2 only: the tests above record about web-1 and jp-1
  const forJp2 = ['get', 'events', '--for', 'node/jp-2'];
  let rec: EventRecorder;
  beforeAll(async () => {
    rec = new EventRecorder({ client: lab.etcd.client(), source: { component: 'controller' } });
    await rec.record({ kind: 'Node', name: 'jp-2' }, 'Normal', 'Joined', 'node jp-2 reported itself');
    // a later lastTimestamp: the listing is oldest first
    await new Promise((r) => setTimeout(r, 5));
    await rec.record({ kind: 'Node', name: 'jp-2' }, 'Warning', 'AddressConflict', 'address 198.18.0.12 is also another node\'s');
  });
  afterAll(() => rec.close());

  it('names each event event/<object>.<id>: the metadata.name -o json and jsonpath show', async () => {
    // the same event about a MacvlanNet written by two nodes' agents: two events, two names
    for (const node of ['jp-1', 'jp-2']) {
      const agent = new EventRecorder({ client: lab.etcd.client(), source: { component: 'agent', node } });
      await agent.record({ kind: 'MacvlanNet', name: 'shared' }, 'Normal', 'Probed', 'probed');
      await agent.close();
    }
    const probed = JSON.parse((await xctl(['get', 'events', '-o', 'json'])).out).items.filter((e: { reason: string }) => e.reason === 'Probed');
    expect(new Set(probed.map((e: { metadata: { name: string } }) => e.metadata.name)).size).toBe(2);
    // a name a node wrote with a line break and a terminal escape is printed escaped, one line
    const now = new Date().toISOString();
    const odd = { involvedObject: { kind: 'MacvlanNet', name: 'x\nevent/forged\u001b[31m' }, type: 'Normal', reason: 'Odd', message: 'm', source: { component: 'agent' }, count: 1, firstTimestamp: now, lastTimestamp: now };
    await lab.etcd.client().put(`${new Keys().nodeEvents('jp-1')}macvlannets/x/0`).value(JSON.stringify(odd));
    const all = (await xctl(['get', 'events', '-o', 'name'])).out;
    expect(all).not.toContain('\u001b');
    expect(all.split('\n').filter((l) => l.startsWith('event/forged'))).toEqual([]);
    const r = await xctl([...forJp2, '-o', 'name']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const lines = r.out.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^event\/jp-2\.[0-9a-f]{16}$/);
    expect(new Set(lines).size).toBe(2);
    const items = JSON.parse((await xctl([...forJp2, '-o', 'json'])).out).items as { metadata: { name: string } }[];
    expect(items.map((e) => `event/${e.metadata.name}`)).toEqual(lines);
    expect(items[0]).toMatchObject({ apiVersion: 'v1', kind: 'Event', reason: 'Joined', involvedObject: { kind: 'Node', name: 'jp-2' } });
    expect((await xctl([...forJp2, '-o', 'jsonpath={.items[*].metadata.name}'])).out).toBe(lines.map((l) => l.slice('event/'.length)).join(' '));
  });

  it('prints the columns asked for, and the wide table with FIRST SEEN and NAME', async () => {
    expect(await xctl([...forJp2, '-o', 'custom-columns=TYPE:.type,REASON:.reason,OBJECT:.involvedObject.name'])).toEqual({
      code: 0, err: '', out: 'TYPE      REASON            OBJECT\nNormal    Joined            jp-2\nWarning   AddressConflict   jp-2\n',
    });
    expect((await xctl([...forJp2, '--no-headers', '-o', 'custom-columns=R:reason'])).out).toBe('Joined\nAddressConflict\n');
    const wide = (await xctl([...forJp2, '-o', 'wide'])).out.split('\n');
    expect(wide[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+COUNT\s+SOURCE\s+FIRST SEEN\s+NAME\s+MESSAGE$/);
    expect(wide[1]).toMatch(/^\d+s\s+Normal\s+Joined\s+node\/jp-2\s+1\s+controller\s+\d+s\s+jp-2\.[0-9a-f]{16}\s+node jp-2 reported itself$/);
    expect(await xctl([...forJp2, '-o', 'custom-columns=REASON'])).toMatchObject({ code: 2, out: '', err: expect.stringContaining('expected <header>:<json-path-expr>') });
    expect(await xctl([...forJp2, '--show-labels'])).toEqual({ code: 2, out: '', err: 'error: get events takes no --show-labels: events carry no labels\n' });
  });

  it('a watch prints each later event in the format asked for', async () => {
    const change = () => rec.record({ kind: 'Node', name: 'jp-2' }, 'Normal', 'Left', 'node jp-2 left');
    expect(await watchUntil([...forJp2, '-w', '-o', 'custom-columns=REASON:.reason'], 'Left\n', change))
      .toEqual({ code: 0, err: '', out: 'REASON\nJoined\nAddressConflict\nLeft\n' });
    const lines = (out: string) => out.split('\n').filter(Boolean);
    const named = await watchUntil([...forJp2, '-w', '-o', 'name'], (out) => lines(out).length === 4,
      () => rec.record({ kind: 'Node', name: 'jp-2' }, 'Normal', 'Rejoined', 'node jp-2 is back'));
    expect(named).toMatchObject({ code: 0, err: '' });
    expect(lines(named.out)[3]).toMatch(/^event\/jp-2\.[0-9a-f]{16}$/);
    expect(new Set(lines(named.out)).size).toBe(4);
  });
});
