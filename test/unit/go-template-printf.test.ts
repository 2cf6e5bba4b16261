// printf's numbers in `-o go-template=` as Go's fmt prints them (the expected texts are what
// kubectl prints for the same template): floats rounded from their exact value, a tie to the even
// digit; any precision; %g and %v with a precision; widths and precisions Go does not read.
import { describe, expect, it } from 'vitest';
import { goTemplatePrinter } from '../../pkg/cli/go-template-printer.js';

const run = (template: string, data: unknown = {}) => goTemplatePrinter(template, true)(data);

describe('printf of floats', () => {
  it('rounds to the nearest, an exact tie to the even digit, as Go does', () => {
    expect(run('{{printf "%.0f|%.0f|%.0f|%.2f|%.1f|%.0e|%.2f" 2.5 3.5 0.5 0.125 0.25 25.0 2.345}}')).toBe('2|4|0|0.12|0.2|2e+01|2.35');
  });

  it('takes any precision, and prints large numbers in full with %f', () => {
    expect(run('{{printf "%.150f" 0.1 | len}}|{{printf "%.30f" 0.1}}')).toBe('152|0.100000000000000005551115123126');
    expect(run('{{printf "%.120e" 0.5}}')).toBe(`5.${'0'.repeat(120)}e-01`);
    expect(run('{{printf "%.2f" 1e22}}|{{printf "%f" .x | len}}', { x: 1e300 })).toBe('10000000000000000000000.00|308');
  });

  it('%g and %v with a precision: significant digits, %e past them; %G and %E in capitals', () => {
    expect(run('{{printf "%.3g|%.10g|%.4g|%.3g|%.2g" 1234.5678 1234.5678 99999.0 100.0 1e-5}}')).toBe('1.23e+03|1234.5678|1e+05|100|1e-05');
    expect(run('{{printf "%6.2v|%.3v|%.0v" 3.14159 1234.5678 2.5}}')).toBe('   3.1|1.23e+03|2');
    expect(run('{{printf "%G|%.3G|%E" 1e-7 1234567.0 1234.5}}')).toBe('1E-07|1.23E+06|1.234500E+03');
  });

  it('a width or precision longer than Go reads loses the rest of the format, as in Go', () => {
    expect(run('{{printf "%99999999d|" 1}}')).toBe('%!(NOVERB)%!(EXTRA int64=1)');
    expect(run('{{printf "%.99999999f|" 1.5}}')).toBe('%!(NOVERB)%!(EXTRA float64=1.5)');
    expect(run('{{printf "%1000001d" 1 | len}}')).toBe('1000001');
  });
});

describe('printf of integers, strings and nil, as kubectl prints them', () => {
  it('%o %O %b %U, # prefixes, a precision as the least number of digits', () => {
    expect(run('{{printf "%o|%O|%b|%#o|%#x|%#X|%U|%#U" 8 8 5 8 255 255 104 104}}')).toBe('10|0o10|101|010|0xff|0XFF|U+0068|U+0068 \'h\'');
    expect(run('{{printf "%.3d|%6.3d|%-6.3d|%+.3d|%08.3d|%.0d|%#08x|%.3v" 7 7 7 7 7 0 255 7}}')).toBe('007|   007|007   |+007|     007||0x000000ff|007');
  });

  it('the 0 flag pads strings and booleans with zeros too', () => {
    expect(run('{{printf "%08s|%-08s|%08q|%05t|%05c" "ab" "ab" "ab" true 65}}')).toBe('000000ab|ab      |0000"ab"|0true|0000A');
  });

  it('%T: the Go type of the value in kubectl\'s decoded data', () => {
    expect(run('{{printf "%T|%T|%T|%T|%T|%T|%10T|%-6T|" .n .f .a .m .z "s" true .nope}}', { n: 24, f: 0.5, a: [1], m: {}, z: null }))
      .toBe('int64|float64|[]interface {}|map[string]interface {}|<nil>|string|      bool|<nil> |');
  });

  it('a null inside an array or a map is <nil> whatever the verb', () => {
    expect(run('{{printf "%d|%s" .a .a}}', { a: [1, null] })).toBe('[1 <nil>]|[%!s(int64=1) <nil>]');
  });
});

describe('printf\'s argument indexes and * widths, as Go reads them', () => {
  it('[n] picks the argument (from 1) and the next ones follow it; a bad one is BADINDEX, and nothing is EXTRA', () => {
    expect(run('{{printf "%[2]s %[1]s|%[1]s %s|%[1]d %[1]q" "a" "b"}}')).toBe('b a|a b|%!d(string=a) "a"');
    expect(run('{{printf "%[2]d %d" 1 2 3}}|{{printf "%d %[5]d %d" 1 2}}|{{printf "%[x]d" 1}}')).toBe('2 3|1 %!d(BADINDEX) 2|%!d(BADINDEX)');
  });

  it('* takes the width or the precision from an integer argument; a negative width pads on the right', () => {
    expect(run('{{printf "%*d|%-*d|%*d|%.*f|%[1]*d" 4 7 3 7 -3 7 2 3.14159}}')).toBe('   7|7  |7  |3.14|   7');
    expect(run('{{printf "%*d|%.*f" "x" 7 -1 2.5}}|{{printf "%*d" 99999999 1}}')).toBe('%!(BADWIDTH)7|%!(BADPREC)2.500000|%!(BADWIDTH)1');
  });

  it('%+v and %#v are %v: Go\'s struct and Go-syntax forms change nothing in this data', () => {
    expect(run('{{printf "%+v|%+v|% v|%+d" 3 1.5 3 3}}')).toBe('3|1.5| 3|+3');
  });
});
