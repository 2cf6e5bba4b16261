// What xnet-controller and xnet-agent share as programs: their command with `-V, --version`,
// the etcd flags (the names and meaning of xctl's, resolved by the same code), refusing bad
// flags with exit 2 before any I/O, and a stop on SIGTERM/SIGINT that cannot hang. Daemons do not fall back to a running lab: whoever
// starts one says where etcd is.
import { Command } from 'commander';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, EtcdConfigError } from '../etcd/client.js';
import { DEFAULT_PREFIX } from '../store/keys.js';
import type { Logger } from '../log.js';
import { initProcessMetrics, timeEtcdRequest } from '../metrics/metrics.js';
import { parseMetricsAddr, startMetricsServer, type Readiness } from '../metrics/server.js';
import { connection, DEFAULT_ENDPOINT, type GlobalOptions } from './connect.js';
import { XNET_VERSION } from '../version.js';

export interface EtcdFlags extends GlobalOptions {
  prefix: string;
}

/**
 * A daemon's command: its name, what it does, and `-V, --version`, answered the same way by
 * every daemon (`xnet-agent v0.1.0` on stdout, exit 0, before anything runs), as it is made
 * here only. xctl answers `xctl version` instead, as kubectl.
 */
export function daemonCommand(name: string, description: string): Command {
  return new Command(name).description(description).version(`${name} v${XNET_VERSION}`, '-V, --version', 'print the version and exit');
}

export function addEtcdFlags(cmd: Command): Command {
  return cmd
    // commander exits 1 on an unknown option, a missing required one or a missing value: those
    // are usage errors too (exit 2, docs/api.md); --help and --version still exit 0
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .option('--endpoints <urls>', `etcd endpoints, comma-separated (default: $XCTL_ENDPOINTS, else ${DEFAULT_ENDPOINT})`)
    .option('--cacert <file>', 'etcd CA certificate')
    .option('--cert <file>', 'etcd client certificate')
    .option('--key <file>', 'etcd client key')
    .option('--prefix <prefix>', 'etcd key prefix', DEFAULT_PREFIX);
}

/** Prints `program: reason` and exits 2, the exit code of a usage error. */
export function usageExit(program: string, reason: string): never {
  process.stderr.write(`${program}: ${reason}\n`);
  process.exit(2);
}

/** A client for the flags; a missing TLS file or --cert without --cacert exits 2. */
export function etcdFromFlags(program: string, o: EtcdFlags): Etcd3 {
  try {
    return createEtcdClient(connection(o, process.env, () => undefined), timeEtcdRequest);
  } catch (e) {
    usageExit(program, e instanceof EtcdConfigError ? e.message : String(e));
  }
}

export function addMetricsFlag(cmd: Command): Command {
  return cmd.option('--metrics-addr <host:port>', 'serve /metrics, /healthz and /readyz on this address (e.g. 127.0.0.1:9476; port 0 picks one)');
}

/** Refuses a malformed --metrics-addr with exit 2 before any I/O. */
export function checkMetricsAddr(program: string, addr: string | undefined): void {
  if (addr === undefined) return;
  try { parseMetricsAddr(addr); } catch (e) { usageExit(program, (e as Error).message); }
}

/** Starts the metrics endpoint when asked; a port that cannot be bound exits 1. */
export async function serveMetrics(program: string, addr: string | undefined, labels: Record<string, string>, ready: Readiness, log: Logger): Promise<void> {
  if (addr === undefined) return;
  initProcessMetrics(labels);
  try {
    const s = await startMetricsServer(addr, ready, (err) => log.error('metrics endpoint error; still serving', { error: err.message }));
    log.info('serving metrics', { url: `${s.url}/metrics` });
  } catch (e) {
    process.stderr.write(`${program}: --metrics-addr ${addr}: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

const STOP_GRACE_MS = 10_000;

/** Logs on stderr too: winston writes asynchronously, and the process is about to exit. */
function logBeforeExit(log: Logger, program: string, message: string, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  log.error(message, { error: e.message });
  process.stderr.write(`${program}: ${message}: ${e.message}\n`);
}

/**
 * The first SIGTERM/SIGINT runs stop, then exits 0 when it worked and 1 when it threw (logged);
 * a stop still running after 10 s exits 1 so that a supervisor's restart is not blocked by a
 * hung etcd call.
 */
export function stopOnSignals(log: Logger, program: string, what: string, stop: () => Promise<void>): { readonly stopping: boolean } {
  const state = { stopping: false };
  const onSignal = async (sig: string) => {
    if (state.stopping) return;
    state.stopping = true;
    log.info(`${sig}: ${what}`);
    setTimeout(() => process.exit(1), STOP_GRACE_MS).unref();
    try {
      await stop();
    } catch (e) {
      logBeforeExit(log, program, 'stopping failed', e);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void onSignal('SIGTERM'));
  process.on('SIGINT', () => void onSignal('SIGINT'));
  return state;
}

/**
 * Runs a daemon's start-up; true once it is done. A failure is logged and exits 1, unless a
 * signal is stopping the daemon: a start cut short by the stop (its clients closed under it)
 * is no failure, and the stop decides the exit code (stopOnSignals).
 */
export async function startOrExit(signals: { readonly stopping: boolean }, log: Logger, program: string, start: () => Promise<void>): Promise<boolean> {
  try {
    await start();
    return true;
  } catch (e) {
    if (signals.stopping) return false;
    logBeforeExit(log, program, `${program} failed to start`, e);
    process.exit(1);
  }
}

/** Exit code of a daemon that stopped on an error nothing else caught (EX_SOFTWARE). */
export const UNCAUGHT_EXIT_CODE = 70;

/**
 * The last resort: an exception or rejection that no listener, timer or promise handled means
 * the process is in a state nobody reasoned about. It is logged (the stack says where) and the
 * process exits non-zero so that its supervisor restarts it from a clean start, rather than
 * running on with a dead watch or a half-applied plan.
 */
export function exitOnUncaught(log: Logger, program: string): void {
  const die = (what: string, err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    log.error(`${what}: exiting so that the supervisor restarts ${program}`, { error: e.message, stack: e.stack });
    // winston writes asynchronously; the same line on stderr survives the exit.
    process.stderr.write(`${program}: ${what}: ${e.stack ?? e.message}\n`);
    process.exit(UNCAUGHT_EXIT_CODE);
  };
  process.on('uncaughtException', (e) => die('uncaught exception', e));
  process.on('unhandledRejection', (e) => die('unhandled promise rejection', e));
}
