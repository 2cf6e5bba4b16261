// kubectl (pflag) reads a short flag's value after `=` too: `-o=name`, `-o=wide`,
// `-f=cn.yaml`, `-l=role=master`. Commander would take `=name` as the value ("unknown output
// format "=name""), so xctl splits such an argument in two before parsing. Only the short
// flags that take a value, and nothing after `--` (the command of `lab exec`).
//
// A boolean flag of pflag's takes its value only after `=` (`--wait=false`); alone it is true and
// the next word is not its value. Commander's optional value (`--wait [bool]`) would take the
// next word (`delete --wait nic a`: "invalid value nic"), so a bare one is given its `=true`.
const VALUE_SHORT_FLAGS = new Set(['f', 'o', 'l']);
const BOOL_FLAGS = new Set(['--wait', '--allow-missing-template-keys', '--overwrite']);
// Likewise kubectl's --dry-run: its strategy only after `=` (`--dry-run=server`); alone it is
// client, and `delete nic a --dry-run none` is a dry run for the NICs a and none, never a delete.
const PRESET_FLAGS = new Map([['--dry-run', 'client']]);

export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    const m = /^-([a-zA-Z])=(.*)$/s.exec(a);
    if (m && VALUE_SHORT_FLAGS.has(m[1])) out.push(`-${m[1]}`, m[2]);
    else if (BOOL_FLAGS.has(a)) out.push(`${a}=true`);
    else if (PRESET_FLAGS.has(a)) out.push(`${a}=${PRESET_FLAGS.get(a)}`);
    else out.push(a);
  }
  return out;
}
