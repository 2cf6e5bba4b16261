// `-o=name`, as kubectl users type it, used to be read as output format "=name" (exit 2).
import { describe, expect, it } from 'vitest';
import { splitShortFlagEquals } from '../../pkg/cli/argv.js';

describe('a short flag with its value after =', () => {
  it('is split in two for -o, -f and -l, as kubectl reads them', () => {
    expect(splitShortFlagEquals(['get', 'no', '-o=name'])).toEqual(['get', 'no', '-o', 'name']);
    expect(splitShortFlagEquals(['apply', '-f=a.yaml', '-f=-'])).toEqual(['apply', '-f', 'a.yaml', '-f', '-']);
    expect(splitShortFlagEquals(['get', 'no', '-l=role=master'])).toEqual(['get', 'no', '-l', 'role=master']);
    expect(splitShortFlagEquals(['get', 'no', '-l='])).toEqual(['get', 'no', '-l', '']);
  });
  it('leaves everything else, and all after --, as it is', () => {
    expect(splitShortFlagEquals(['get', 'no', '-w', '--output=name', '-owide'])).toEqual(['get', 'no', '-w', '--output=name', '-owide']);
    expect(splitShortFlagEquals(['lab', 'exec', 'host-1', '--', 'sh', '-o=x'])).toEqual(['lab', 'exec', 'host-1', '--', 'sh', '-o=x']);
    expect(splitShortFlagEquals(['get', 'no', '-x=y'])).toEqual(['get', 'no', '-x=y']);
  });
});
