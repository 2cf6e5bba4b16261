// Breaking a lab host's state on purpose, for heal tests and the heal benchmark. The break and
// a probe of its effect run in one shell, so the break is proven before an agent could undo it:
// a break that failed (say, `docker exec` without NET_ADMIN) or changed nothing throws, instead
// of being measured as an instant heal.
import type { ExecResult } from './exec.js';

/** Runs argv where the state lives: a host's namespace, a container's namespace. */
export type Exec = (argv: string[]) => Promise<ExecResult>;

const quote = (argv: string[]) => argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');

/**
 * Runs the break `argv` and, in the same shell, `probe`, whose output must then lack `gone`.
 * Throws with both outputs when the break command failed or did not take effect. When both are
 * `ip` commands they run as one `ip -batch`, the probe microseconds after the break: an agent
 * that heals within the few milliseconds a second `ip` process takes to start (a deleted route
 * comes back that fast) would otherwise make a break that happened look as if it had not. That
 * batch runs at a real-time priority where the kernel allows it (`chrt -f`): on a loaded
 * machine an `ip` preempted between the two lines for the 40 ms a heal takes saw the route back
 * (a full-suite run, 2026-12-02).
 */
export async function breakVerified(exec: Exec, argv: string[], probe: { argv: string[]; gone: string }): Promise<void> {
  const batch = ipBatch(argv, probe.argv);
  // Other breaks (iptables, sysctl) are two processes: the shell that runs them takes the same
  // real-time priority, which they inherit, so the probe starts the moment the break exits (an
  // iptables probe preempted so saw the agent's NAT jump back in 1 of 200 breaks at load 12).
  const run = batch ? `if chrt -f 10 true 2>/dev/null; then rt='chrt -f 10'; else rt=''; fi
out=$(${batch} 2>&1) || { echo "break failed: $out" >&2; exit 90; }`
    : `chrt -f -p 10 $$ 2>/dev/null || true
${quote(argv)} || { echo "break failed: exit $?" >&2; exit 90; }
out=$(${quote(probe.argv)} 2>&1)`;
  const script = `${run}
case "$out" in *${quote([probe.gone])}*) echo "break did not take effect: $out" >&2; exit 91;; esac`;
  const r = await exec(['sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`break \`${argv.join(' ')}\` (exit ${r.exitCode}): ${(r.stderr + r.stdout).trim()}`);
}

/** `ip <options> -batch -` with the break's and the probe's commands, when both are `ip` commands. */
function ipBatch(breakArgv: string[], probeArgv: string[]): string | undefined {
  if (breakArgv[0] !== 'ip' || probeArgv[0] !== 'ip') return undefined;
  const split = (a: string[]) => { const i = a.findIndex((x, j) => j > 0 && !x.startsWith('-')); return { opts: a.slice(1, i), cmd: a.slice(i) }; };
  const b = split(breakArgv);
  const p = split(probeArgv);
  const opts = [...new Set([...b.opts, ...p.opts])];
  return `printf '%s\\n' ${quote([b.cmd.join(' '), p.cmd.join(' ')])} | $rt ${quote(['ip', ...opts, '-batch', '-'])}`;
}
