// The template engine of `xctl get -o jsonpath=TEMPLATE` (pkg/cli/jsonpath*.ts), without etcd:
// kubectl's JSONPath semantics (k8s.io/client-go/util/jsonpath) on an object and on the List
// that `get -o json` prints.
import { describe, expect, it } from 'vitest';
import { jsonPath, JsonPathExecError, JsonPathSyntaxError, parseTemplate, printed } from '../../pkg/cli/jsonpath.js';

const nic = (name: string, node: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'ContainerNic',
  metadata: { name, labels: { 'xnet.io/role': node === 'host-1' ? 'web' : 'db', app: 'shop' } },
  spec: { node, container: `c-${name}`, ifName: 'eth1' },
  ...extra,
});
const a = nic('a', 'host-1', { status: { ip: '10.0.1.5', conditions: [{ type: 'Ready', status: 'True' }, { type: 'Allocated', status: 'True' }] } });
const b = nic('b', 'host-2', { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'ContainerNotFound' }] } });
const list = { apiVersion: 'v1', kind: 'List', items: [a, b] };

const strict = { allowMissingKeys: false };
/** The error a template raises on `data`, or undefined. */
const failure = (template: string, data: unknown, opts = strict) => {
  try { jsonPath(template, data, opts); } catch (e) { return e; }
  return undefined;
};

describe('text and fields', () => {
  it('prints text outside actions as it is, a field of one object, a nested field', () => {
    expect(jsonPath('{.spec.node}', a)).toBe('host-1');
    expect(jsonPath('nic {.metadata.name} on {.spec.node}!', a)).toBe('nic a on host-1!');
    expect(jsonPath('a } stray brace', a)).toBe('a } stray brace');
  });

  it('@ and $ are the current object; an empty action prints it as JSON', () => {
    expect(jsonPath('{@.spec.ifName}/{$.spec.ifName}', a)).toBe('eth1/eth1');
    expect(jsonPath('{.spec}', a)).toBe('{"container":"c-a","ifName":"eth1","node":"host-1"}');
    expect(jsonPath('{}', { x: 1 })).toBe('{"x":1}');
  });

  it('bracket keys, in either quote, keep dots and slashes in the name; so does \\. in a dotted field', () => {
    expect(jsonPath("{.metadata.labels['xnet.io/role']}", a)).toBe('web');
    expect(jsonPath('{.metadata.labels["xnet.io/role"]}', a)).toBe('web');
    expect(jsonPath('{.metadata.labels.xnet\\.io/role}', a)).toBe('web');
    expect(jsonPath("{['metadata']['name']}", a)).toBe('a');
  });

  it('string literals with \\n and \\t escapes, in double or single quotes', () => {
    expect(jsonPath('{.metadata.name}{"\\t"}{.spec.node}{"\\n"}', a)).toBe('a\thost-1\n');
    expect(jsonPath("{'x\\ny'}", a)).toBe('x\ny');
    expect(jsonPath('{"say \\"hi\\""}', a)).toBe('say "hi"');
  });

  it('prints numbers and booleans as text, null as Go prints nil, maps with sorted keys', () => {
    const o = { n: 42, f: 1.5, t: true, z: null, m: { b: 1, a: '<x>' }, arr: [1, 'two'] };
    expect(jsonPath('{.n} {.f} {.t} {.z}', o)).toBe('42 1.5 true <nil>');
    expect(jsonPath('{.m}', o)).toBe('{"a":"\\u003cx\\u003e","b":1}');
    expect(jsonPath('{.arr}', o)).toBe('[1,"two"]');
  });
});

describe('lists: the List object -o json prints', () => {
  it('[*] gives each item; several results of one action are printed separated by a space', () => {
    expect(jsonPath('{.items[*].metadata.name}', list)).toBe('a b');
    expect(jsonPath('{.items[*].spec.node}{"\\n"}', list)).toBe('host-1 host-2\n');
    // a field only some items have: the others give nothing, no error even when strict
    expect(jsonPath('{.items[*].status.ip}', list, strict)).toBe('10.0.1.5');
  });

  it('[n], negative [-1], slices [a:b] and [a:b:step]', () => {
    const l = { items: ['x0', 'x1', 'x2', 'x3'] };
    expect(jsonPath('{.items[0]}', l)).toBe('x0');
    expect(jsonPath('{.items[-1]}', l)).toBe('x3');
    expect(jsonPath('{.items[-2]}', l)).toBe('x2');
    expect(jsonPath('{.items[1:3]}', l)).toBe('x1 x2');
    expect(jsonPath('{.items[:2]}', l)).toBe('x0 x1');
    expect(jsonPath('{.items[2:]}', l)).toBe('x2 x3');
    expect(jsonPath('{.items[-2:]}', l)).toBe('x2 x3');
    expect(jsonPath('{.items[0:4:2]}', l)).toBe('x0 x2');
    expect(jsonPath('{.items[1:1]}', l)).toBe('');
    expect(jsonPath('{.items[*]}', { items: [] })).toBe('');
  });

  it('an index out of range is an error, as in kubectl, even with missing keys allowed', () => {
    const allowed = { allowMissingKeys: true };
    expect((failure('{.items[5]}', list, allowed) as Error).message).toBe('array index out of bounds: index 5, length 2');
    expect((failure('{.items[0]}', { items: [] }, allowed) as Error).message).toBe('array index out of bounds: index 0, length 0');
    expect((failure('{.items[0:9]}', list, allowed) as Error).message).toBe('array index out of bounds: index 8, length 2');
    expect((failure('{.metadata[0]}', a, allowed) as Error).message).toBe('map is not array or slice');
  });
});

describe('range ... end', () => {
  it('runs its body once per result, each the current object; text after {end} prints once', () => {
    const t = '{range .items[*]}{.metadata.name}{"\\t"}{.spec.node}{"\\n"}{end}done';
    expect(jsonPath(t, list)).toBe('a\thost-1\nb\thost-2\ndone');
  });

  it('nests, and prints nothing for an empty list', () => {
    const t = '{range .items[*]}{.metadata.name}:{range .status.conditions[*]}[{.type}={.status}]{end};{end}';
    expect(jsonPath(t, list)).toBe('a:[Ready=True][Allocated=True];b:[Ready=False];');
    expect(jsonPath('{range .items[*]}{.metadata.name}{end}', { items: [] })).toBe('');
  });

  it('a range left open runs to the end of the template, as kubectl runs it', () => {
    expect(jsonPath('{range .items[*]}<{.metadata.name}>', list)).toBe('<a><b>');
  });
});

describe('filters', () => {
  it('== and != on a field of each element', () => {
    expect(jsonPath('{.items[?(@.spec.node=="host-2")].metadata.name}', list)).toBe('b');
    expect(jsonPath("{.items[?(@.spec.node!='host-2')].metadata.name}", list)).toBe('a');
    expect(jsonPath('{.status.conditions[?(@.type=="Ready")].status}', a)).toBe('True');
    expect(jsonPath('{.items[?(@.spec.node == "host-1")].metadata.name}', list)).toBe('a');
  });

  it('presence [?(@.field)], and an element without the compared field is left out, as in kubectl', () => {
    expect(jsonPath('{.items[?(@.status.ip)].metadata.name}', list)).toBe('a');
    expect(jsonPath('{.items[?(@.status.ip)].metadata.name}', list, strict)).toBe('a');
    expect(jsonPath('{.items[?(@.status.ip!="x")].metadata.name}', list)).toBe('a');
  });

  it('compares numbers and booleans; mixed types are an error (Go template rules)', () => {
    const l = { items: [{ n: 1, ok: true }, { n: 5, ok: false }] };
    expect(jsonPath('{.items[?(@.n>2)].n}', l)).toBe('5');
    expect(jsonPath('{.items[?(@.n<=1)].n}', l)).toBe('1');
    expect(jsonPath('{.items[?(@.ok==false)].n}', l)).toBe('5');
    expect((failure('{.items[?(@.n=="1")].n}', l) as Error).message).toBe('incompatible types for comparison');
  });

  it('a filter with a quoted ")" or "]" in its value', () => {
    const l = { items: [{ m: 'a)]b', n: 1 }, { m: 'x', n: 2 }] };
    expect(jsonPath('{.items[?(@.m=="a)]b")].n}', l)).toBe('1');
  });
});

describe('recursive descent', () => {
  it('..name finds every value under that key, parents first', () => {
    expect(jsonPath('{..name}', list)).toBe('a b');
    expect(jsonPath('{..type}', a)).toBe('Ready Allocated');
    expect(jsonPath('{.items[0]..status}', list)).toBe('{"conditions":[{"status":"True","type":"Ready"},{"status":"True","type":"Allocated"}],"ip":"10.0.1.5"} True True');
  });

  it('.* over an object; ..[n] indexes every value found, so a map among them is an error, as in kubectl', () => {
    expect(jsonPath('{.spec.*}', a)).toBe('host-1 c-a eth1');
    expect((failure('{.status..[0].type}', a) as Error).message).toBe('map is not array or slice');
  });
});

describe('missing keys', () => {
  it('allowed (kubectl\'s default): nothing is printed for them, the rest is', () => {
    expect(jsonPath('[{.nope}] [{.spec.nope.deeper}] {.metadata.name}', a)).toBe('[] [] a');
    expect(jsonPath('{.items[*].nope}', list)).toBe('');
  });

  it('not allowed: an error naming the key, and nothing printed', () => {
    const e = failure('x{.metadata.name}{.spec.nope}', a);
    expect(e).toBeInstanceOf(JsonPathExecError);
    expect((e as Error).message).toBe('nope is not found');
    expect((failure('{..nope}', list) as Error).message).toBe('nope is not found');
  });
});

describe('unions', () => {
  const three = { items: [a, b, nic('c', 'host-3')] };

  it('[0,2] takes each index in the order written, as kubectl does; slices and negatives too', () => {
    expect(jsonPath('{.items[0,2].metadata.name}', three)).toBe('a c');
    expect(jsonPath('{.items[2,0].metadata.name}', three)).toBe('c a');
    expect(jsonPath('{.items[-1, 0:2].metadata.name}', three)).toBe('c a b');
    expect(jsonPath('{range .items[0,2]}{.metadata.name}{"\\n"}{end}', three)).toBe('a\nc\n');
  });

  it("['a','b'] takes each key; a comma inside quotes stays in the key", () => {
    expect(jsonPath("{.spec['node','ifName']}", a)).toBe('host-1 eth1');
    expect(jsonPath('{.metadata.labels["app", \'xnet.io/role\']}', a)).toBe('shop web');
    expect(jsonPath("{['a,b']}", { 'a,b': 1, a: 2 })).toBe('1');
  });

  it('each member runs over every value given, member by member (kubectl\'s order)', () => {
    expect(jsonPath("{.items[*].spec['node','ifName']}", list)).toBe('host-1 host-2 eth1 eth1');
  });

  it('an index out of range in a member is the error it is alone', () => {
    expect((failure('{.items[0,5]}', three, { allowMissingKeys: true }) as Error).message).toBe('array index out of bounds: index 5, length 3');
  });
});

describe('parse errors', () => {
  const syntax = (template: string) => {
    try { parseTemplate(template); } catch (e) { if (e instanceof JsonPathSyntaxError) return `${e.why} @${e.position}`; throw e; }
    return 'parsed';
  };

  it('say what is wrong and where, 1-based', () => {
    expect(syntax('name: {.metadata.name')).toBe('unclosed action: "{" without its "}" @7');
    expect(syntax('{.items[0}')).toBe('unterminated "[": no "]" @8');
    expect(syntax('{.items[x]}')).toBe('invalid array index "x" @8');
    expect(syntax('{.a} {#}')).toBe('unexpected character "#" in action @7');
    expect(syntax('{.items[?(@.a=="x"}')).toBe('unterminated filter: "[?(" without its ")]" @8');
    expect(syntax('{.items[?(@.a=>"x")]}')).toBe('unknown filter operator "=>" (==, !=, <, >, <=, >=) @14');
    expect(syntax('{"abc}')).toBe('unterminated quoted string @2');
    expect(syntax('{"\\q"}')).toBe('unknown escape "\\q" in a quoted string @2');
    expect(syntax('{.a}{end}')).toBe('{end} without a {range} to end @5');
    expect(syntax('{foo}')).toBe('unknown word "foo" (only range, end, true and false) @2');
    // a bad member of a union is named at its own character, not the "["
    expect(syntax('{.items[0,x]}')).toBe('invalid array index "x" @11');
    expect(syntax('{.items[0, ]}')).toBe('empty member in the union "[0, ]" @11');
    expect(syntax('{.a\n}')).toBe('unclosed action: "{" without its "}" @1');
  });

  it('the message of the error says the position too', () => {
    expect(() => parseTemplate('{.x')).toThrow('unclosed action: "{" without its "}" at character 1');
  });
});

describe('printed', () => {
  it('keeps a string as it is and escapes nothing in it (kubectl prints raw text)', () => {
    expect(printed('a "b" <c>')).toBe('a "b" <c>');
  });
});
