// `-o=name`, as kubectl users type it, used to be read as output format "=name" (exit 2).
import { describe, expect, it } from 'vitest';
import { normalizeArgv } from '../../pkg/cli/argv.js';

describe('a short flag with its value after =', () => {
  it('is split in two for -o, -f and -l, as kubectl reads them', () => {
    expect(normalizeArgv(['get', 'no', '-o=name'])).toEqual(['get', 'no', '-o', 'name']);
    expect(normalizeArgv(['apply', '-f=a.yaml', '-f=-'])).toEqual(['apply', '-f', 'a.yaml', '-f', '-']);
    expect(normalizeArgv(['get', 'no', '-l=role=master'])).toEqual(['get', 'no', '-l', 'role=master']);
    expect(normalizeArgv(['get', 'no', '-l='])).toEqual(['get', 'no', '-l', '']);
  });
  it('leaves everything else, and all after --, as it is', () => {
    expect(normalizeArgv(['get', 'no', '-w', '--output=name', '-owide'])).toEqual(['get', 'no', '-w', '--output=name', '-owide']);
    expect(normalizeArgv(['lab', 'exec', 'host-1', '--', 'sh', '-o=x'])).toEqual(['lab', 'exec', 'host-1', '--', 'sh', '-o=x']);
    expect(normalizeArgv(['get', 'no', '-x=y'])).toEqual(['get', 'no', '-x=y']);
  });
});

describe('a boolean flag alone', () => {
  it('is true, and the word after it is not its value, as pflag reads it', () => {
    expect(normalizeArgv(['delete', '--wait', 'nic', 'a'])).toEqual(['delete', '--wait=true', 'nic', 'a']);
    expect(normalizeArgv(['get', 'nic', '--allow-missing-template-keys', 'a'])).toEqual(['get', 'nic', '--allow-missing-template-keys=true', 'a']);
  });
  it('keeps a value given after =, and leaves all after -- as it is', () => {
    expect(normalizeArgv(['delete', 'nic', 'a', '--wait=false'])).toEqual(['delete', 'nic', 'a', '--wait=false']);
    expect(normalizeArgv(['lab', 'exec', 'host-1', '--', 'x', '--wait'])).toEqual(['lab', 'exec', 'host-1', '--', 'x', '--wait']);
  });
});

describe('--dry-run alone', () => {
  it('is client, and the word after it is not its strategy, as kubectl reads it', () => {
    expect(normalizeArgv(['delete', 'nic', 'a', '--dry-run', 'none'])).toEqual(['delete', 'nic', 'a', '--dry-run=client', 'none']);
    expect(normalizeArgv(['delete', '--dry-run', 'nic', 'a'])).toEqual(['delete', '--dry-run=client', 'nic', 'a']);
    expect(normalizeArgv(['apply', '-f', 'x.yaml', '--dry-run=server'])).toEqual(['apply', '-f', 'x.yaml', '--dry-run=server']);
  });
});
