// Offsets to 1-based lines and columns, for the lines that messages name. yaml's LineCounter
// keeps each line's start in a growing array of numbers (8 bytes each, copied as it grows):
// 16 MiB of empty lines made it 16 million entries, over 200 MB at its peak. Here the line
// breaks are counted first, and the starts kept in 4 bytes each (a manifest is at most 16 MiB).

export type LinePos = (offset: number) => { line: number; col: number };

/** The line and column of an offset in `text`, as yaml's LineCounter.linePos gives them. */
export function linePositions(text: string): LinePos {
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  const starts = new Uint32Array(lines);
  for (let i = text.indexOf('\n'), n = 1; i !== -1; i = text.indexOf('\n', i + 1)) starts[n++] = i + 1;
  return (offset) => {
    // the last line that starts at or before offset
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, col: offset - starts[low] + 1 };
  };
}
