// kubectl (pflag) reads a short flag's value after `=` too: `-o=name`, `-o=wide`,
// `-f=cn.yaml`, `-l=role=master`. Commander would take `=name` as the value ("unknown output
// format "=name""), so xctl splits such an argument in two before parsing. Only the short
// flags that take a value, and nothing after `--` (the command of `lab exec`).
const VALUE_SHORT_FLAGS = new Set(['f', 'o', 'l']);

export function splitShortFlagEquals(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    const m = /^-([a-zA-Z])=(.*)$/s.exec(a);
    if (m && VALUE_SHORT_FLAGS.has(m[1])) out.push(`-${m[1]}`, m[2]);
    else out.push(a);
  }
  return out;
}
