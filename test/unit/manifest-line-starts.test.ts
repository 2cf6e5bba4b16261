// linePositions (line-starts.ts) stands in for yaml's LineCounter: every offset of a text,
// line breaks LF or CRLF, empty lines, at and past the end, maps to the same line and column.
import { describe, expect, it } from 'vitest';
import { LineCounter } from 'yaml';
import { linePositions } from '../../pkg/manifest/line-starts.js';

function lineCounter(text: string): LineCounter {
  const lc = new LineCounter();
  lc.addNewLine(0);
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lc.addNewLine(i + 1);
  return lc;
}

describe('linePositions', () => {
  it.each(['', 'a', '\n', 'a\nb', 'a\n\nb\n', '\r\n\r\nx', 'abc\n', `kind: x\n${'\n'.repeat(50)}a: 1`])('gives LineCounter\'s line and column at every offset of %j', (text) => {
    const lc = lineCounter(text);
    const pos = linePositions(text);
    for (let offset = 0; offset <= text.length + 1; offset++) expect([offset, pos(offset)]).toEqual([offset, lc.linePos(offset)]);
  });
});
