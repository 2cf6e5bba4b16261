// What reading a manifest costs, by its shape: the CPU seconds of parseSources (the parse and
// validation `xctl apply -f` runs before it asks etcd anything) on texts of the same size,
// each next to the baseline measured in the same run: as many bytes of ordinary, valid Node
// manifests. Each shape runs in a process of its own, so that one that runs out of memory is
// reported as such and the others are still measured.
//
// Peak memory is printed next to the baseline's too; `one object alone` is the floor (the
// process, the object) that the padded shapes are read against.
//
//   npm run bench -- manifest        MANIFEST_MIB=4 node dist/bench/manifest.js   (16: the limit)
//   MANIFEST_SHAPES='blank|block'    only the shapes whose names match (and the baseline)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseSources } from '../pkg/manifest/load.js';
import { ManifestError } from '../pkg/manifest/errors.js';

const BYTES = Math.floor(Number(process.env.MANIFEST_MIB ?? 4) * 1024 * 1024) - 64;

/** `unit` repeated to BYTES, between `head` and `tail` */
const fill = (unit: string, head = '', tail = '') => head + unit.repeat(Math.floor((BYTES - head.length - tail.length) / unit.length)) + tail;

/** `item(i)` for i = 0, 1, ... joined by `sep`, after `head`, as many as fit in BYTES */
function items(item: (i: number) => string, sep: string, head = ''): string {
  const parts: string[] = [head];
  for (let i = 0, len = head.length; ; i++) {
    const s = item(i) + sep;
    if ((len += s.length) > BYTES) return parts.join('');
    parts.push(s);
  }
}

const node = (i: number) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: n${i}\nspec: {}\n`;

const nic = (i: number) => `- apiVersion: xnet.io/v1alpha1\n  kind: ContainerNic\n  metadata:\n    name: nic-${i}\n    labels: {app: web}\n  spec:\n    node: host-${i % 50}\n    container: c${i}\n    ifName: eth1\n    network: {clusterNetwork: default}\n    ip: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;

/** Each shape's text, and what xctl must answer it (at any MANIFEST_MIB up to 16). */
const SHAPES: Record<string, [make: () => string, expect: 'accepted' | 'refused']> = {
  'valid Nodes (baseline)': [() => items(node, '---\n'), 'accepted'],
  // one document: past about 47 000 of these NICs (11 MiB) it holds more than 2 000 000 values (document-bounds.ts)
  'one List of ContainerNics': [() => items(nic, '', 'apiVersion: v1\nkind: List\nitems:\n'), BYTES <= 10 * 1024 * 1024 ? 'accepted' : 'refused'],
  'empty documents (---)': [() => fill('---\n'), 'refused'],
  'empty documents (...)': [() => fill('...\n'), 'refused'],
  'comment-only documents': [() => fill('# c\n---\n'), 'refused'],
  'empty documents (CRLF)': [() => fill('---\r\n'), 'refused'],
  'tiny valid flow documents': [() => items((i) => `{apiVersion: xnet.io/v1alpha1, kind: Node, metadata: {name: n${i}}, spec: {}}`, '\n---\n'), 'accepted'],
  'tiny invalid documents': [() => fill('a: 1\n---\n'), 'refused'],
  'unclosed bracket documents': [() => fill('a: [\n---\n'), 'refused'],
  'JSON stream of {}': [() => fill('{}\n'), 'refused'],
  // refused at the 2 000 000th value or 100th level (document-bounds.ts) at 4 MiB and more;
  // they ran out of memory at 16 MiB before it
  'one huge flow sequence': [() => fill('1,', 'a: [', '1]\n'), 'refused'],
  'one huge block sequence': [() => fill('- 1\n', 'a:\n'), 'refused'],
  'one very long line': [() => fill('x', 'apiVersion: ', '\n'), 'refused'],
  'deep flow nesting': [() => '['.repeat(BYTES / 2) + ']'.repeat(BYTES / 2), 'refused'],
  'one object, many comments': [() => fill('# comment\n', node(0)), 'accepted'],
  'one object alone': [() => node(0), 'accepted'],
  'one object, many blank lines': [() => fill('\n', node(0)), 'accepted'],
  'one object, blank lines (CRLF)': [() => fill('\r\n', node(0)), 'accepted'],
  'blank lines between 2 objects': [() => fill('\n', node(0), `---\n${node(1)}`), 'accepted'],
  'directive documents': [() => fill('%YAML 1.2\n---\n'), 'refused'],
};

/** One shape, in this process: its CPU seconds, its peak memory and what the user is told, as a line of JSON. */
function measure(name: string): void {
  const text = SHAPES[name][0]();
  const t0 = process.cpuUsage();
  let outcome: string;
  try {
    outcome = `accepted, ${parseSources([{ file: 'm.yaml', text }]).length} objects`;
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    outcome = `refused, ${e.issues.length} problems: ${e.issues[0].reason.slice(0, 40)}`;
  }
  const used = process.cpuUsage(t0);
  console.log(JSON.stringify({ seconds: (used.user + used.system) / 1e6, mib: process.resourceUsage().maxRSS / 1024, outcome }));
}

/** Each shape in a child process: its CPU seconds and peak memory, or why it gave none; and whether xctl answered as it must. */
function main(): void {
  console.log(`manifests of ${(BYTES / 1024 / 1024).toFixed(1)} MiB, CPU seconds and peak memory of parseSources`);
  const only = process.env.MANIFEST_SHAPES ? new RegExp(process.env.MANIFEST_SHAPES, 'i') : undefined;
  let baseline: { seconds: number; mib: number } | undefined;
  for (const [name, [, expected]] of Object.entries(SHAPES)) {
    if (only && baseline && !only.test(name)) continue;
    let line: string;
    let outcome = 'failed';
    try {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; mib: number; outcome: string };
      baseline ??= r;
      outcome = r.outcome;
      line = `${r.seconds.toFixed(2).padStart(7)} s  ${(r.seconds / baseline.seconds).toFixed(2).padStart(5)}x  ${r.mib.toFixed(0).padStart(5)} MiB  ${(r.mib / baseline.mib).toFixed(2).padStart(5)}x  ${r.outcome}`;
    } catch (e) {
      // node aborts (SIGABRT) when its heap is full
      const { signal, status } = e as { signal?: string; status?: number };
      line = `failed: ${signal === 'SIGABRT' || status === 134 ? 'out of memory (crashed)' : (e as Error).message.split('\n')[0]}`;
    }
    const wrong = outcome.startsWith(expected) ? '' : `  UNEXPECTED: must be ${expected}`;
    if (wrong) process.exitCode = 1;
    console.log(`${name.padEnd(30)} ${line}${wrong}`);
  }
  console.log('(each figure next to its ratio to the baseline, the first line)');
}

if (process.argv[2]) measure(process.argv[2]);
else main();
