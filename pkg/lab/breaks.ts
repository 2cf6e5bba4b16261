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
 * Throws with both outputs when the break command failed or did not take effect.
 */
export async function breakVerified(exec: Exec, argv: string[], probe: { argv: string[]; gone: string }): Promise<void> {
  const script = `${quote(argv)} || { echo "break failed: exit $?" >&2; exit 90; }
out=$(${quote(probe.argv)} 2>&1)
case "$out" in *${quote([probe.gone])}*) echo "break did not take effect: $out" >&2; exit 91;; esac`;
  const r = await exec(['sh', '-c', script]);
  if (r.exitCode !== 0) throw new Error(`break \`${argv.join(' ')}\` (exit ${r.exitCode}): ${(r.stderr + r.stdout).trim()}`);
}
