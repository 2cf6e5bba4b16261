// `xctl wait --for jsonpath=...`: where the template ends and the value begins, and when an
// object meets it. Pure.
import { describe, expect, it } from 'vitest';
import { jsonPathState, parseJsonPathGoal } from '../../pkg/cli/commands/wait-jsonpath.js';

const nic = { metadata: { name: 'a' }, status: { ip: '10.64.0.5', conditions: [{ type: 'Ready', status: 'True' }, { type: 'Allocated', status: 'False' }] } };

describe('parseJsonPathGoal', () => {
  it('splits at the "}" the value follows, also past a filter holding "="', () => {
    expect(parseJsonPathGoal('{.status.ip}=10.64.0.5')).toMatchObject({ source: '{.status.ip}', value: '10.64.0.5' });
    const filtered = parseJsonPathGoal('{.status.conditions[?(@.type=="Ready")].status}=True');
    expect(filtered).toMatchObject({ source: '{.status.conditions[?(@.type=="Ready")].status}', value: 'True' });
    expect(jsonPathState(filtered, nic).met).toBe(true);
  });
  it('takes kubectl\'s form without braces, and no value as "the field is there"', () => {
    expect(parseJsonPathGoal('.status.ip=10.64.0.5')).toMatchObject({ source: '{.status.ip}', value: '10.64.0.5' });
    expect(parseJsonPathGoal('{.status.ip}')).toMatchObject({ source: '{.status.ip}', value: undefined, text: '{.status.ip}' });
  });
  it('refuses an empty template, an "=" with no value, and a template that does not parse', () => {
    expect(() => parseJsonPathGoal('')).toThrow('needs a template');
    expect(() => parseJsonPathGoal('{.status.ip}=')).toThrow('has no VALUE after "="');
    expect(() => parseJsonPathGoal('{.status.ip')).toThrow('invalid --for jsonpath={.status.ip');
  });
});

describe('jsonPathState', () => {
  it('is met when the template prints the value, and says what it printed when not', () => {
    expect(jsonPathState(parseJsonPathGoal('{.status.ip}=10.64.0.5'), nic)).toEqual({ met: true, text: '{.status.ip} is "10.64.0.5"' });
    expect(jsonPathState(parseJsonPathGoal('{.status.ip}=10.64.0.6'), nic)).toEqual({ met: false, text: '{.status.ip} is "10.64.0.5"' });
  });
  it('without a value, is met once the field is there', () => {
    expect(jsonPathState(parseJsonPathGoal('{.status.ip}'), nic).met).toBe(true);
    expect(jsonPathState(parseJsonPathGoal('{.status.mac}'), nic)).toEqual({ met: false, text: '{.status.mac} is empty or not there' });
  });
  it('an index out of range is not met, and named', () => {
    const s = jsonPathState(parseJsonPathGoal('{.status.conditions[5].type}=Ready'), nic);
    expect(s.met).toBe(false);
    expect(s.text).toBe("{.status.conditions[5].type}: array index out of bounds: index 5, length 2");
  });
});
