// A unified-style line diff of two texts, small and dependency-free: objects are a few dozen
// lines, so the O(n*m) longest-common-subsequence table is cheap.

export type DiffLine = { op: ' ' | '-' | '+'; text: string };

export function diffLines(a: string[], b: string[]): DiffLine[] {
  const n = a.length, m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) { out.push({ op: ' ', text: a[i] }); i++; j++; }
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ op: '-', text: a[i++] });
    else out.push({ op: '+', text: b[j++] });
  }
  while (i < n) out.push({ op: '-', text: a[i++] });
  while (j < m) out.push({ op: '+', text: b[j++] });
  return out;
}

/** Renders changes with `context` unchanged lines around each; "@@" separates distant hunks. */
export function renderDiff(lines: DiffLine[], context = 3): string {
  const keep = lines.map(() => false);
  lines.forEach((l, i) => {
    if (l.op === ' ') return;
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = true;
  });
  let out = '';
  let skipped = false;
  lines.forEach((l, i) => {
    if (!keep[i]) { skipped = true; return; }
    if (skipped && out) out += '@@\n';
    skipped = false;
    out += `${l.op} ${l.text}\n`;
  });
  return out;
}

export function textDiff(before: string, after: string, context = 3): string {
  const split = (s: string) => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));
  return renderDiff(diffLines(split(before), split(after)), context);
}
