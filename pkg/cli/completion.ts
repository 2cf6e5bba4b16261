// `xctl completion bash|zsh`: a completion script generated from the commander tree itself, so
// a new command or flag completes without touching this file. Object names come from etcd at
// completion time through the hidden `xctl __complete KIND` (same endpoints and TLS flags as
// the command line being completed).
import type { Command, Option } from 'commander';
import { KINDS, resolveKind } from '../api/kinds.js';
import type { Session } from './connect.js';
import type { CliIO } from './io.js';
import { UsageError } from './exit.js';
import { EVENT_NAMES } from './commands/events.js';
import { GET_OUTPUTS } from './commands/get.js';
import { JSONPATH } from './jsonpath-printer.js';
import { CUSTOM_COLUMNS } from './custom-columns.js';
import { CUSTOM_COLUMNS_FILE, GO_TEMPLATE_FILE, JSONPATH_FILE } from './output-templates.js';
import { GO_TEMPLATE } from './go-template-printer.js';
import { LAB_STATUS_OUTPUTS } from './commands/lab.js';
import { TOPOLOGY_OUTPUTS } from './commands/topology.js';
import type { RegisterCommand } from './command.js';

export const COMPLETE_COMMAND = '__complete';
const NAMES_TIMEOUT_MS = 2000;

/** Values a flag takes, completed by the shell; a flag not listed takes a free value. */
const FLAG_VALUES: Record<string, string> = {
  '--for': 'condition=Ready delete jsonpath=',
};
/** What `-o` takes, per command: each command's own list (`get events` is `get` with events); `jsonpath=`, `go-template=`, `custom-columns=` and their `-file=` are followed by the user's. */
const OUTPUTS: Record<string, readonly string[]> = { get: [...GET_OUTPUTS, JSONPATH, JSONPATH_FILE, GO_TEMPLATE, GO_TEMPLATE_FILE, CUSTOM_COLUMNS, CUSTOM_COLUMNS_FILE], 'lab status': LAB_STATUS_OUTPUTS, topology: TOPOLOGY_OUTPUTS };
const FILE_FLAGS = new Set(['--filename', '--cacert', '--cert', '--key']);

interface Node {
  path: string; subcommands: string[]; flags: string[]; valueFlags: string[]; takesKind: boolean; words: string[]; extraKinds: string[];
  outputs: readonly string[];
}

const visible = (c: Command) => !(c as unknown as { _hidden?: boolean })._hidden;
const flagNames = (o: Option) => [o.short, o.long].filter((x): x is string => !!x);

function nodes(cmd: Command, path: string, inherited: Option[]): Node[] {
  const opts = [...inherited, ...cmd.options];
  const first = cmd.registeredArguments[0]?.name();
  const subs = cmd.commands.filter(visible);
  const node: Node = {
    path,
    subcommands: subs.map((c) => c.name()),
    flags: [...opts.flatMap(flagNames), '--help'],
    // a flag whose value is optional (--dry-run[=server]) completes as a flag alone, its value
    // written after "=": the word after it is the next flag (`--dry-run -f x`), not its value
    valueFlags: opts.filter((o) => o.required).flatMap(flagNames),
    takesKind: first === 'kind' || first === 'kind-and-names',
    words: cmd.name() === 'completion' ? ['bash', 'zsh'] : [],
    // `xctl get events` reads events where a kind would stand; only `get` takes it
    extraKinds: path === 'get' ? [EVENT_NAMES[0]] : [],
    outputs: OUTPUTS[path] ?? [],
  };
  return [node, ...subs.flatMap((c) => nodes(c, path ? `${path} ${c.name()}` : c.name(), opts))];
}

function valueCase(program: Command): string {
  const all = nodes(program, '', []).flatMap((n) => n.valueFlags);
  const lines: string[] = [];
  for (const f of new Set(all)) {
    const long = f.startsWith('--') ? f : program.options.concat(...program.commands.map((c) => c.options)).find((o) => o.short === f)?.long;
    const body = long && FILE_FLAGS.has(long) ? 'COMPREPLY=($(compgen -f -- "$cur"))'
      : long === '--for' ? forValues()
      : long === '--output' ? outputValues()
      : long && FLAG_VALUES[long] ? `COMPREPLY=($(compgen -W "${FLAG_VALUES[long]}" -- "$cur"))` : 'COMPREPLY=()';
    lines.push(`      ${f}) ${body}; return;;`);
  }
  return lines.join('\n');
}

/** `--for` is a condition for `wait` and KIND/NAME for `get events`: offer `kind/` prefixes there. */
function forValues(): string {
  const kinds = KINDS.map((k) => `${k.kind.toLowerCase()}/`).join(' ');
  return `if [[ " \${COMP_WORDS[*]} " == *" ${EVENT_NAMES[0]} "* ]]; then compopt -o nospace 2>/dev/null; COMPREPLY=($(compgen -W "${kinds}" -- "$cur")); `
    + `else COMPREPLY=($(compgen -W "${FLAG_VALUES['--for']}" -- "$cur")); `
    // a lone `jsonpath=` is followed by the template in the same word
    + 'if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *= ]]; then compopt -o nospace 2>/dev/null; fi; fi';
}

/**
 * `-o` takes the formats of the command typed (found before this runs; `get events` takes get's).
 * A lone `jsonpath=`, `go-template=` or `custom-columns=` is completed without the space after it: the template follows in the word.
 */
function outputValues(): string {
  return 'COMPREPLY=($(compgen -W "$outputs" -- "$cur")); '
    + 'if [[ ${#COMPREPLY[@]} -eq 1 && "${COMPREPLY[0]}" == *= ]]; then compopt -o nospace 2>/dev/null; fi';
}

/** The bash script: walk the words typed so far, find the command, then offer what fits. */
export function bashCompletion(program: Command): string {
  const ns = nodes(program, '', []);
  const values = [...new Set(ns.flatMap((n) => n.valueFlags))].join('|');
  const cases = ns.map((n) => `    "${n.path}") subs="${n.subcommands.join(' ')}"; flags="${n.flags.join(' ')}"; kind=${n.takesKind ? 1 : 0}; words="${n.words.join(' ')}"; extra="${n.extraKinds.join(' ')}"; outputs="${n.outputs.join(' ')}";;`).join('\n');
  const kinds = KINDS.flatMap((k) => [k.kind.toLowerCase(), k.plural, k.short]).join(' ');
  return `# bash completion for xctl (generated by \`xctl completion bash\`)
# load it with: source <(xctl completion bash)
_xctl() {
  local cur prev path="" i w skip=0 conn=() pos=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i=1; i<COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; conn+=("$w"); continue; fi
    case "$w" in
      --endpoints|--cacert|--cert|--key) conn+=("$w"); skip=1;;
      ${values || '--none'}) skip=1;;
      --*=*) case "$w" in --endpoints=*|--cacert=*|--cert=*|--key=*) conn+=("$w");; esac;;
      -*) ;;
      *) if ((\${#pos[@]} == 0)) && [[ " $(_xctl_subs "$path") " == *" $w "* ]]; then path="\${path:+$path }$w"; else pos+=("$w"); fi;;
    esac
  done
  local subs flags kind words extra outputs
  _xctl_node "$path"
  # a flag's value: after the walk, so that it may depend on the command typed
  case "$prev" in
${valueCase(program)}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); return; fi
  if [[ -n "$subs" && \${#pos[@]} -eq 0 ]]; then COMPREPLY=($(compgen -W "$subs" -- "$cur")); return; fi
  if [[ -n "$words" && \${#pos[@]} -eq 0 ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); return; fi
  if ((kind)); then
    if [[ \${#pos[@]} -eq 0 ]]; then COMPREPLY=($(compgen -W "${kinds} $extra" -- "$cur")); return; fi
    local names
    names="$(xctl "\${conn[@]}" ${COMPLETE_COMMAND} "\${pos[0]}" 2>/dev/null)"
    COMPREPLY=($(compgen -W "$names" -- "$cur")); return
  fi
  COMPREPLY=()
}
_xctl_node() {
  case "$1" in
${cases}
    *) subs=""; flags=""; kind=0; words=""; extra=""; outputs="";;
  esac
}
_xctl_subs() { local subs flags kind words extra outputs; _xctl_node "$1"; echo "$subs"; }
complete -F _xctl xctl
`;
}

/** zsh runs the bash script through its bashcompinit layer, so both shells complete the same. */
export function zshCompletion(program: Command): string {
  return `#compdef xctl
# zsh completion for xctl (generated by \`xctl completion zsh\`)
# load it with: source <(xctl completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').filter((l) => !l.startsWith('# ')).join('\n')}`;
}

export function completionCommand(program: Command, io: CliIO, shell: string): number {
  if (shell === 'bash') io.out(bashCompletion(program));
  else if (shell === 'zsh') io.out(zshCompletion(program));
  else throw new UsageError(`unknown shell "${shell}"; use bash or zsh`);
  return 0;
}

/** `xctl __complete KIND`: the names of that kind, one a line; nothing (exit 0) on any failure. */
export async function completeNamesCommand(session: Session, io: CliIO, kindArg: string): Promise<number> {
  try {
    const info = resolveKind(kindArg);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), NAMES_TIMEOUT_MS); });
    const list = await Promise.race([session.store().list(info.kind), timeout]).finally(() => clearTimeout(timer));
    for (const o of list.items) io.out(`${o.metadata.name}\n`);
  } catch {
    // a completion must never print errors into the user's command line
  }
  return 0;
}

/** `xctl completion SHELL` and the hidden `xctl __complete KIND` the scripts call at Tab time. */
export const registerCompletion: RegisterCommand = (program, { io, run }) => {
  program.command('completion')
    .description('print a shell completion script: source <(xctl completion bash)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => { completionCommand(program, io, shell); });
  program.command(COMPLETE_COMMAND, { hidden: true })
    .description('object names of a kind, for shell completion')
    .argument('<kind>')
    .action((kind: string, _opts: unknown, cmd: Command) => run((s) => completeNamesCommand(s, io, kind), cmd));
};
