// The pure helpers behind xctl's flags and output (no etcd needed).
import { describe, expect, it } from 'vitest';
import { durationText, MAX_TIMEOUT_MS, parseDuration, parseFor, parseTimeout } from '../../pkg/cli/commands/wait.js';
import { parseOutput } from '../../pkg/cli/commands/get.js';
import { parseSelector } from '../../pkg/cli/label-selector.js';
import { equalitySelector } from '../../pkg/api/labels.js';
import { humanAge, renderTable, tableRow } from '../../pkg/cli/format.js';
import type { AnyObject } from '../../pkg/api/types.js';
import { textDiff } from '../../pkg/cli/diff.js';
import { connection, resolveEndpoints, DEFAULT_ENDPOINT } from '../../pkg/cli/connect.js';
import { EtcdConfigError } from '../../pkg/etcd/client.js';
import { parseEndpoints } from '../../pkg/etcd/endpoints.js';
import { exitCodeFor, EXIT } from '../../pkg/cli/exit.js';
import { readFileSync } from 'node:fs';
import { runXctl } from '../../pkg/cli/program.js';
import { ConflictError, NotFoundError } from '../../pkg/store/types.js';
import { ManifestError } from '../../pkg/manifest/errors.js';
import { UnknownKindError } from '../../pkg/api/kinds.js';

describe('flags', () => {
  it('parses durations', () => {
    expect(parseDuration(undefined)).toBe(60_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(() => parseDuration('soon')).toThrow(/invalid duration/);
    expect(() => parseDuration('5x')).toThrow(/invalid duration/);
  });
  it('refuses a --timeout longer than a timer can wait (Node would fire it at once), naming the limit', () => {
    expect(parseTimeout('596h')).toBe(596 * 3_600_000);
    expect(parseTimeout(`${MAX_TIMEOUT_MS}ms`)).toBe(2_147_483_647);
    expect(() => parseTimeout('600h')).toThrow('--timeout 600h is too long: at most 2147483647ms (about 24.8 days)');
    expect(() => parseTimeout(`${MAX_TIMEOUT_MS + 1}ms`)).toThrow(/too long/);
    expect(() => parseTimeout('9'.repeat(400))).toThrow(/too long/);
  });
  it('says a bare number of seconds with its unit', () => {
    expect(durationText('5')).toBe('5s');
    expect(durationText('1.5')).toBe('1.5s');
    expect(durationText('1m30s')).toBe('1m30s');
    expect(durationText('500ms')).toBe('500ms');
  });
  it('a --timeout too long is a usage error, exit 2, before etcd is asked (it would say 5)', async () => {
    let err = '';
    const code = await runXctl(['wait', 'no/host-1', '--timeout', '600h'], { out: () => undefined, err: (t) => { err += t; }, stdin: async () => '', env: { XCTL_ENDPOINTS: 'http://127.0.0.1:1' } });
    expect({ code, err }).toEqual({ code: EXIT.USAGE, err: 'error: --timeout 600h is too long: at most 2147483647ms (about 24.8 days)\n' });
  });
  it('parses --for', () => {
    expect(parseFor('condition=Ready')).toEqual({ type: 'condition', condition: 'Ready', status: 'True' });
    expect(parseFor('condition=Ready=false')).toEqual({ type: 'condition', condition: 'Ready', status: 'False' });
    expect(parseFor('delete')).toEqual({ type: 'delete' });
    expect(() => parseFor('Ready')).toThrow(/condition=TYPE/);
  });
  it('parses label selectors', () => {
    expect(parseSelector(['a=b,c=d', 'e==f'])).toEqual(equalitySelector({ a: 'b', c: 'd', e: 'f' }));
    expect(parseSelector(undefined)).toBeUndefined();
    // the set-based and existence forms are in label-selector.test.ts
    expect(() => parseSelector(['a b'])).toThrow(/key=value/);
  });
  it('refuses an empty requirement in a selector, naming the selector (kubectl does too)', () => {
    expect(() => parseSelector(['role=master,'])).toThrow('invalid label selector "role=master,": empty requirement after the last ","; use key=value[,key=value]');
    expect(() => parseSelector([',role=master'])).toThrow('invalid label selector ",role=master": empty requirement before the first ","');
    expect(() => parseSelector(['a=b, ,c=d'])).toThrow('invalid label selector "a=b, ,c=d": empty requirement between two ","');
    expect(() => parseSelector(['a=b', ','])).toThrow('invalid label selector ",": empty requirement before the first ","');
    // an empty -l is no requirement at all: it selects everything, as kubectl's -l ''
    expect(parseSelector([''])).toEqual([]);
    expect(parseSelector([' a=b , c=d '])).toEqual(equalitySelector({ a: 'b', c: 'd' }));
  });
  it('an empty requirement is a usage error, exit 2, before etcd is asked (it would say 5)', async () => {
    let err = '';
    const code = await runXctl(['get', 'no', '-l', 'role=master,'], { out: () => undefined, err: (t) => { err += t; }, stdin: async () => '', env: { XCTL_ENDPOINTS: 'http://127.0.0.1:1' } });
    expect({ code, err }).toEqual({ code: EXIT.USAGE, err: 'error: invalid label selector "role=master,": empty requirement after the last ","; use key=value[,key=value]\n' });
  });
  it('accepts only known output formats', () => {
    expect(parseOutput(undefined)).toBe('table');
    expect(parseOutput('wide')).toBe('wide');
    expect(parseOutput('name')).toBe('name');
    expect(parseOutput('jsonpath={.metadata.name}')).toBe('jsonpath');
    expect(parseOutput('go-template={{.metadata.name}}')).toBe('go-template');
    // kubectl's other template formats are not taken: the message lists what is
    expect(() => parseOutput('xml')).toThrow('unknown output format "xml"; use wide, yaml, json, name, jsonpath=TEMPLATE, jsonpath-file=PATH, go-template=TEMPLATE, go-template-file=PATH, custom-columns=SPEC or custom-columns-file=PATH');
    expect(() => parseOutput('template={{.x}}')).toThrow('unknown output format "template={{.x}}"');
    expect(() => parseOutput('jsonpath-as-json={.x}')).toThrow('unknown output format "jsonpath-as-json={.x}"');
    // kubectl's file forms are (the file is read later, by parseGetOutput)
    expect(parseOutput('jsonpath-file=x')).toBe('jsonpath');
    expect(parseOutput('go-template-file=x')).toBe('go-template');
    expect(parseOutput('custom-columns-file=x')).toBe('custom-columns');
  });
});

describe('endpoints', () => {
  const lab = () => ['http://198.18.0.1:2379'];
  it('take --endpoints, else XCTL_ENDPOINTS, else the lab, else the local default', () => {
    expect(resolveEndpoints({ endpoints: 'http://a:1,http://b:2' }, { XCTL_ENDPOINTS: 'http://c:3' }, lab)).toEqual(['http://a:1', 'http://b:2']);
    expect(resolveEndpoints({}, { XCTL_ENDPOINTS: 'http://c:3' }, lab)).toEqual(['http://c:3']);
    expect(resolveEndpoints({}, {}, lab)).toEqual(['http://198.18.0.1:2379']);
    expect(resolveEndpoints({}, {}, () => undefined)).toEqual([DEFAULT_ENDPOINT]);
  });
  it('an --endpoints given empty is a usage error, not a fall through to the lab; an empty XCTL_ENDPOINTS counts as unset', () => {
    const noLab = () => { throw new Error('the lab was looked up'); };
    for (const endpoints of ['', ' ']) {
      expect(() => resolveEndpoints({ endpoints }, { XCTL_ENDPOINTS: 'http://c:3' }, noLab)).toThrow(EtcdConfigError);
      expect(() => resolveEndpoints({ endpoints }, {}, noLab)).toThrow('--endpoints is empty; give etcd\'s URLs, e.g. http://127.0.0.1:2379');
    }
    expect(resolveEndpoints({}, { XCTL_ENDPOINTS: '' }, lab)).toEqual(['http://198.18.0.1:2379']);
    expect(() => resolveEndpoints({}, { XCTL_ENDPOINTS: 'ftp://c:3' }, noLab)).toThrow('invalid endpoint "ftp://c:3" in XCTL_ENDPOINTS');
  });
  it('are http(s)://HOST[:PORT], all of one scheme; the scheme in lower case, a trailing / dropped', () => {
    expect(parseEndpoints(' http://a:1 , http://b.example:2 ')).toEqual(['http://a:1', 'http://b.example:2']);
    expect(parseEndpoints('HTTPS://10.0.0.1:2379/,https://[::1]:2379,https://etcd-0')).toEqual(['https://10.0.0.1:2379', 'https://[::1]:2379', 'https://etcd-0']);
    expect(parseEndpoints('http://127.0.0.1:1,http://127.0.0.1:65535')).toHaveLength(2);
    // a bare HOST:PORT is http, as etcdctl (and xnet's daemons before this check) read it; compose names may hold _
    expect(parseEndpoints('127.0.0.1:2379,etcd_1:2379,[::1]:2379')).toEqual(['http://127.0.0.1:2379', 'http://etcd_1:2379', 'http://[::1]:2379']);
    expect(() => parseEndpoints('127.0.0.1:2379,https://b:2')).toThrow('mixes http and https endpoints');
  });
  it('a bare HOST:PORT is https when TLS files are given, http otherwise, as etcdctl reads it; a scheme written is kept', () => {
    expect(parseEndpoints('127.0.0.1:2379,etcd_1:2379,[::1]:2379', '--endpoints', true)).toEqual(['https://127.0.0.1:2379', 'https://etcd_1:2379', 'https://[::1]:2379']);
    expect(parseEndpoints('http://127.0.0.1:2379', '--endpoints', true)).toEqual(['http://127.0.0.1:2379']);
    expect(parseEndpoints('https://127.0.0.1:2379', '--endpoints', false)).toEqual(['https://127.0.0.1:2379']);
    expect(parseEndpoints('127.0.0.1:2379,https://b:2', '--endpoints', true)).toEqual(['https://127.0.0.1:2379', 'https://b:2']);
    expect(() => parseEndpoints('127.0.0.1', '--endpoints', true)).toThrow('not a URL; write https://127.0.0.1 (or http://)');
  });
  it('a list that mixes http:// with a bare HOST:PORT read as https (TLS files given) says which endpoint was read so', () => {
    // the user wrote no https: the error must say where the https came from
    expect(() => parseEndpoints('http://127.0.0.1:1,127.0.0.1:2', '--endpoints', true)).toThrow(
      'invalid --endpoints "http://127.0.0.1:1,127.0.0.1:2": mixes http and https endpoints (127.0.0.1:2 is read as https://, TLS files being given); give one scheme for all');
    expect(() => parseEndpoints('http://a:1,https://b:2')).toThrow('invalid --endpoints "http://a:1,https://b:2": mixes http and https endpoints; give one scheme for all');
  });
  it('the connection xctl and the daemons make reads a bare endpoint by the TLS files given, from the flag or XCTL_ENDPOINTS', () => {
    const noLab = () => undefined;
    expect(connection({ endpoints: '127.0.0.1:2379', cacert: 'ca.pem' }, {}, noLab).endpoints).toEqual(['https://127.0.0.1:2379']);
    expect(connection({ endpoints: '127.0.0.1:2379', cert: 'c.pem', key: 'c.key' }, {}, noLab).endpoints).toEqual(['https://127.0.0.1:2379']);
    expect(connection({ cacert: 'ca.pem' }, { XCTL_ENDPOINTS: '127.0.0.1:2379' }, noLab).endpoints).toEqual(['https://127.0.0.1:2379']);
    expect(connection({ endpoints: '127.0.0.1:2379' }, {}, noLab).endpoints).toEqual(['http://127.0.0.1:2379']);
  });
  it('refuse a malformed endpoint as a usage error naming it, before any connection', () => {
    const refused: Array<[string, string]> = [
      ['http://', 'invalid endpoint "http://" in --endpoints: no host; e.g. http://127.0.0.1:2379'],
      ['http://:2379', 'invalid endpoint "http://:2379" in --endpoints: no host'],
      ['ftp://127.0.0.1:23791', 'invalid endpoint "ftp://127.0.0.1:23791" in --endpoints: scheme "ftp" is not one etcd serves; use http or https'],
      ['http://127.0.0.1:99999', 'invalid endpoint "http://127.0.0.1:99999" in --endpoints: port "99999" is not a number from 1 to 65535'],
      ['http://127.0.0.1:0', 'port "0" is not a number from 1 to 65535'],
      ['http://127.0.0.1:', 'port "" is not a number from 1 to 65535'],
      ['http://127.0.0.1:x1', 'port "x1" is not a number from 1 to 65535'],
      ['http://127.0.0.1:23791/path', 'invalid endpoint "http://127.0.0.1:23791/path" in --endpoints: "/path" is not part of an etcd endpoint; give http://HOST[:PORT] without a path or query'],
      ['http://127.0.0.1:23791?a=1', '"?a=1" is not part of an etcd endpoint'],
      ['127.0.0.1', 'invalid endpoint "127.0.0.1" in --endpoints: not a URL; write http://127.0.0.1 (or https://)'],
      ['http://root:pw@127.0.0.1:2379', 'no user name or password in an endpoint'],
      ['http://a b:2379', '"a b" is not a host name or address'],
      ['http://a:1,', 'invalid --endpoints "http://a:1,": an empty endpoint (a comma with nothing before or after it)'],
      ['http://a:1,https://b:2', 'invalid --endpoints "http://a:1,https://b:2": mixes http and https endpoints; give one scheme for all'],
    ];
    for (const [value, message] of refused) {
      expect(() => parseEndpoints(value), value).toThrow(message);
      expect(exitCodeFor(catchError(() => parseEndpoints(value))), value).toBe(EXIT.USAGE);
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try { fn(); } catch (e) { return e; }
  throw new Error('did not throw');
}

describe('exit codes', () => {
  it('map errors to the documented codes', () => {
    expect(exitCodeFor(new ManifestError([{ file: 'f', reason: 'r' }]))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new UnknownKindError('pod'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new ConflictError('Node', 'n', 'stale'))).toBe(EXIT.CONFLICT);
    expect(exitCodeFor(new NotFoundError('Node', 'n'))).toBe(EXIT.NOT_FOUND);
    expect(exitCodeFor(new Error('14 UNAVAILABLE: No connection established'))).toBe(EXIT.UNREACHABLE);
    expect(exitCodeFor(new Error('boom'))).toBe(EXIT.FAILED);
  });
});

describe('output', () => {
  it('prints ages like kubectl', () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    const ago = (s: number) => humanAge(new Date(now - s * 1000).toISOString(), now);
    expect(ago(5)).toBe('5s');
    expect(ago(190)).toBe('3m10s');
    expect(ago(47 * 60)).toBe('47m');
    expect(ago(5 * 3600 + 180)).toBe('5h3m');
    expect(ago(20 * 3600)).toBe('20h');
    expect(ago(3 * 86400 + 4 * 3600)).toBe('3d4h');
    expect(ago(12 * 86400)).toBe('12d');
    expect(humanAge(undefined)).toBe('<unknown>');
  });
  it('shows a time more than a second ahead as <invalid>, as kubectl does, not as a fresh 0s', () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    expect(humanAge(new Date(now + 500).toISOString(), now)).toBe('0s');
    expect(humanAge(new Date(now + 5000).toISOString(), now)).toBe('<invalid>');
    expect(humanAge('2999-01-01T00:00:00Z', now)).toBe('<invalid>');
  });
  it('pads table columns by three spaces', () => {
    expect(renderTable([['NAME', 'CIDR'], ['default', '10.76.0.0/16']])).toBe('NAME      CIDR\ndefault   10.76.0.0/16\n');
  });
  it('diffs lines with context and hunk separators', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n') + '\n';
    const after = before.replace('b\n', 'B\n').replace('j\n', 'J\n');
    expect(textDiff(before, after, 1)).toBe('  a\n- b\n+ B\n  c\n@@\n  i\n- j\n+ J\n');
    expect(textDiff('', 'x: 1\n')).toBe('+ x: 1\n');
    expect(textDiff('same\n', 'same\n')).toBe('');
  });
});

describe('renderTable with the widths of earlier rows (a watch)', () => {
  it('keeps columns apart when a row is wider than, or has no, known widths', () => {
    expect(renderTable([['abc', 'd', 'e']], [])).toBe('abc   d   e\n');
    expect(renderTable([['abcdef', 'x']], [2])).toBe('abcdef   x\n');
  });
});

describe('xctl version', () => {
  it('prints package.json\'s version, without etcd', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    let out = '';
    const code = await runXctl(['version'], { out: (t) => { out += t; }, err: () => undefined, stdin: async () => '', env: { XCTL_ENDPOINTS: 'http://127.0.0.1:1' } });
    expect(code).toBe(0);
    expect(out).toBe(`Client Version: v${pkg.version}\n`);
  });
});

describe('the Node table\'s ADDRESS', () => {
  const node = (spec: { address?: string; interface?: string }, status?: { address?: string; accepted?: 'Checked' | 'InvalidNodeAddress' | 'AddressInPool' }) => ({
    apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name: 'host-2', creationTimestamp: new Date().toISOString() }, spec,
    status: status && { address: status.address, conditions: status.accepted ? [{ type: 'AddressAccepted', status: status.accepted === 'Checked' ? 'True' : 'False', reason: status.accepted, message: '', lastTransitionTime: '' }] : [] },
  }) as unknown as AnyObject;
  it('is what peers route to: the admin\'s spec.address, else the reported one, marked when the controller refused it', () => {
    expect(tableRow(node({}, { address: '198.18.0.12', accepted: 'Checked' }), false)[1]).toBe('198.18.0.12');
    expect(tableRow(node({}, { address: '198.18.0.11', accepted: 'InvalidNodeAddress' }), false)[1]).toBe('198.18.0.11 (refused)');
    // a pool came over it after it was accepted: flagged on the condition, still routed
    expect(tableRow(node({}, { address: '198.18.0.21', accepted: 'AddressInPool' }), false)[1]).toBe('198.18.0.21');
    expect(tableRow(node({ address: '198.18.0.42' }, { address: '198.18.0.12', accepted: 'Checked' }), false)[1]).toBe('198.18.0.42');
    expect(tableRow(node({}), false)[1]).toBe('<none>');
  });

  it('marks a pinned spec.address the node\'s agent does not find on its host (AddressOnHost False)', () => {
    const onHost = (status: 'True' | 'False', observedGeneration = 2) => {
      const n = node({ address: '198.18.0.99' }) as unknown as { metadata: Record<string, unknown> };
      return { ...n, metadata: { ...n.metadata, generation: 2 }, status: { address: '198.18.0.99', observedGeneration, conditions: [{ type: 'AddressOnHost', status, reason: status === 'True' ? 'OnHost' : 'NotOnHost', message: '', lastTransitionTime: '' }] } } as unknown as AnyObject;
    };
    expect(tableRow(onHost('False'), false)[1]).toBe('198.18.0.99 (not on host)');
    expect(tableRow(onHost('True'), false)[1]).toBe('198.18.0.99');
    // a report about the spec before (the address since corrected, the agent not there yet)
    expect(tableRow(onHost('False', 1), false)[1]).toBe('198.18.0.99');
  });

  it('marks, -o wide, a pinned spec.interface the node\'s agent finds no link of (InterfaceOnHost False)', () => {
    const pinned = (status: 'True' | 'False', observedGeneration = 2) => {
      const n = node({ interface: 'enp0s5' }) as unknown as { metadata: Record<string, unknown> };
      return { ...n, metadata: { ...n.metadata, generation: 2 }, status: { interface: 'enp0s5', observedGeneration, conditions: [{ type: 'InterfaceOnHost', status, reason: status === 'True' ? 'OnHost' : 'NotOnHost', message: '', lastTransitionTime: '' }] } } as unknown as AnyObject;
    };
    const iface = (o: AnyObject) => tableRow(o, true)[4];
    expect(iface(pinned('False'))).toBe('enp0s5 (not on host)');
    expect(iface(pinned('True'))).toBe('enp0s5');
    expect(iface(pinned('False', 1))).toBe('enp0s5');
  });
});
