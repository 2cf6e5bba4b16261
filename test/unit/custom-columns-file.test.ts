// kubectl's `-o custom-columns-file=PATH` format (pkg/cli/custom-columns.ts), without etcd: a line of
// headers, a line of field paths, split at white space.
import { describe, expect, it } from 'vitest';
import { parseCustomColumnsFile } from '../../pkg/cli/custom-columns.js';

const obj = { metadata: { name: 'a', labels: { rack: 'r1' } }, spec: { node: 'host-1' } };
const refusal = (text: string) => {
  try { parseCustomColumnsFile(text, 'cols.txt'); } catch (e) { return (e as Error).message; }
  return 'parsed';
};

describe('custom-columns-file', () => {
  it('pairs the headers with the field paths, whatever white space (tabs, CRLF) separates them', () => {
    const c = parseCustomColumnsFile('NAME\tNODE   RACK\r\n .metadata.name\tspec.node {.metadata.labels.rack}\r\nignored line\n', 'cols.txt');
    expect(c.header).toEqual(['NAME', 'NODE', 'RACK']);
    expect(c.row(obj)).toEqual(['a', 'host-1', 'r1']);
    // a union's comma is no column separator here (the line is split at white space only)
    expect(parseCustomColumnsFile("WHERE\n.spec['node','ifName']\n", 'cols.txt').row({ spec: { node: 'h', ifName: 'eth1' } })).toEqual(['h,eth1']);
  });

  it('refuses, naming the file: no headers, no second line, counts that differ, a path that does not parse', () => {
    expect(refusal('')).toBe('custom-columns file "cols.txt": no headers on its first line; expected one line of headers, then one line of as many field paths, separated by white space');
    expect(refusal('NAME\n')).toBe('custom-columns file "cols.txt": number of headers (1) and field paths (0) don\'t match');
    expect(refusal('NAME')).toBe('custom-columns file "cols.txt": no field paths (no second line); expected one line of headers, then one line of as many field paths, separated by white space');
    expect(refusal('NAME IP\n.metadata.name\n')).toBe('custom-columns file "cols.txt": number of headers (2) and field paths (1) don\'t match');
    expect(refusal('NAME\n.items[0\n')).toBe('custom-columns "NAME:.items[0": unterminated "[": no "]" at character 8');
  });
});
