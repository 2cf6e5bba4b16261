// What reading a manifest costs, by its shape: the CPU seconds of parseSources (the parse and
// validation `xctl apply -f` runs before it asks etcd anything) on texts of the same size,
// each next to the baseline measured in the same run: as many bytes of ordinary, valid Node
// manifests. Each shape runs in a process of its own, so that one that runs out of memory is
// reported as such and the others are still measured.
//
//   npm run bench -- manifest        MANIFEST_MIB=4 node dist/bench/manifest.js   (16: the limit)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSources } from '../pkg/manifest/load.js';
import { ManifestError } from '../pkg/manifest/errors.js';

const BYTES = Math.floor(Number(process.env.MANIFEST_MIB ?? 4) * 1024 * 1024) - 64;

/** `unit` repeated to BYTES, between `head` and `tail` */
const fill = (unit: string, head = '', tail = '') => head + unit.repeat(Math.floor((BYTES - head.length - tail.length) / unit.length)) + tail;

/** `item(i)` for i = 0, 1, ... joined by `sep`, as many as fit in BYTES */
function items(item: (i: number) => string, sep: string): string {
  const parts: string[] = [];
  for (let i = 0, len = 0; ; i++) {
    const s = item(i) + sep;
    if ((len += s.length) > BYTES) return parts.join('');
    parts.push(s);
  }
}

const node = (i: number) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n${i}\nspec: {}\n`;

const SHAPES: Record<string, () => string> = {
  'valid Nodes (baseline)': () => items(node, '---\n'),
  'empty documents (---)': () => fill('---\n'),
  'empty documents (...)': () => fill('...\n'),
  'comment-only documents': () => fill('# c\n---\n'),
  'empty documents (CRLF)': () => fill('---\r\n'),
  'tiny valid flow documents': () => items((i) => `{apiVersion: xnet.io/v1alpha1, kind: Node, metadata: {name: n${i}}, spec: {}}`, '\n---\n'),
  'tiny invalid documents': () => fill('a: 1\n---\n'),
  'unclosed bracket documents': () => fill('a: [\n---\n'),
  'JSON stream of {}': () => fill('{}\n'),
  'one huge flow sequence': () => fill('1,', 'a: [', '1]\n'),
  'one huge block sequence': () => fill('- 1\n', 'a:\n'),
  'one very long line': () => fill('x', 'apiVersion: ', '\n'),
  'deep flow nesting': () => '['.repeat(BYTES / 2) + ']'.repeat(BYTES / 2),
  'one object, many comments': () => fill('# comment\n', node(0)),
  'one object, many blank lines': () => fill('\n', node(0)),
  'directive documents': () => fill('%YAML 1.2\n---\n'),
};

/** One shape, in this process: its CPU seconds and what the user is told, as a line of JSON. */
function measure(name: string): void {
  const text = SHAPES[name]();
  const t0 = process.cpuUsage();
  let outcome: string;
  try {
    outcome = `accepted, ${parseSources([{ file: 'm.yaml', text }]).length} objects`;
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    outcome = `refused, ${e.issues.length} problems`;
  }
  const used = process.cpuUsage(t0);
  console.log(JSON.stringify({ seconds: (used.user + used.system) / 1e6, outcome }));
}

/** Each shape in a child process: its CPU seconds, or why it gave none. */
function main(): void {
  console.log(`manifests of ${(BYTES / 1024 / 1024).toFixed(1)} MiB, CPU seconds of parseSources`);
  let baseline: number | undefined;
  for (const name of Object.keys(SHAPES)) {
    let line: string;
    try {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; outcome: string };
      baseline ??= r.seconds;
      line = `${r.seconds.toFixed(2).padStart(7)} s  ${(r.seconds / baseline).toFixed(2).padStart(5)}x baseline  ${r.outcome}`;
    } catch (e) {
      // node aborts (SIGABRT) when its heap is full
      const { signal, status } = e as { signal?: string; status?: number };
      line = `failed: ${signal === 'SIGABRT' || status === 134 ? 'out of memory (crashed)' : (e as Error).message.split('\n')[0]}`;
    }
    console.log(`${name.padEnd(30)} ${line}`);
  }
}

if (process.argv[2]) measure(process.argv[2]);
else main();
