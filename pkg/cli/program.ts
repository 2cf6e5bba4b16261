// The xctl command tree (docs/api.md). Each run builds a fresh commander program so
// that tests can run many commands in one process.
import { Command, CommanderError } from 'commander';
import { connection, endpointSource, Session, type EndpointSource, type GlobalOptions } from './connect.js';
import { CliError, exitCodeFor, EXIT } from './exit.js';
import { tlsFilesGiven } from '../etcd/client.js';
import type { CliIO } from './io.js';
import { ManifestError } from '../manifest/errors.js';
import { KIND_HELP, type RegisterCommand, type RunInSession } from './command.js';
import { registerApply } from './commands/apply.js';
import { registerDiff } from './commands/diff.js';
import { registerGet } from './commands/get.js';
import { registerDescribe } from './commands/describe.js';
import { registerDelete } from './commands/delete.js';
import { registerLabel } from './commands/label.js';
import { registerWait } from './commands/wait.js';
import { registerIpam } from './commands/ipam.js';
import { registerCompletion } from './completion.js';
import { registerVerify } from './commands/verify.js';
import { registerTopology } from './commands/topology.js';
import { registerAuth } from './commands/auth.js';
import { registerLab } from './commands/lab.js';
import { registerVersion } from './commands/version.js';
import { normalizeArgv } from './argv.js';
import { isRefused, refusedCause, refusedHint } from './refused.js';

/**
 * Every top-level command, in the order `xctl --help` lists them. A new command is a
 * RegisterCommand next to its implementation and one entry here.
 */
const COMMANDS: RegisterCommand[] = [
  registerApply,
  registerDiff,
  registerGet,
  registerDescribe,
  registerDelete,
  registerLabel,
  registerWait,
  registerIpam,
  registerAuth,
  registerLab,
  registerVerify,
  registerTopology,
  registerCompletion,
  registerVersion,
];

/** The program with its global flags and help, no commands yet. */
function rootCommand(io: CliIO): Command {
  const program = new Command('xctl')
    .description('declarative networks for Docker hosts, stored in etcd')
    .option('--endpoints <urls>', 'etcd endpoints, comma separated (default: $XCTL_ENDPOINTS, else the running lab, else http://127.0.0.1:2379)')
    .option('--cacert <file>', 'CA certificate for TLS to etcd')
    .option('--cert <file>', 'client certificate for TLS to etcd')
    .option('--key <file>', 'client key for TLS to etcd')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  program.addHelpText('after', `\nKINDS: ${KIND_HELP}\nExit codes: 0 ok, 1 differs/problem/timeout, 2 usage or invalid manifest, 3 conflict, 4 not found, 5 etcd unreachable`);
  return program;
}

export function buildProgram(io: CliIO, run: RunInSession): Command {
  const program = rootCommand(io);
  for (const register of COMMANDS) register(program, { io, run });
  return program;
}

/** Runs one xctl invocation; returns the exit code. Errors are printed to io.err. */
export async function runXctl(argv: string[], io: CliIO): Promise<number> {
  let code: number = EXIT.OK;
  let target: EtcdTarget | undefined;
  let command = '';
  const run = async (fn: (s: Session) => Promise<number>, cmd: Command) => {
    command = cmd.name();
    const opts = cmd.optsWithGlobals() as GlobalOptions;
    const conn = connection(opts, io.env);
    target = { endpoints: conn.endpoints, source: endpointSource(opts, io.env, conn), tls: tlsFilesGiven(conn), clientCert: !!(conn.cert || conn.key), cert: conn.cert };
    const session = new Session(conn);
    try {
      code = await fn(session);
    } finally {
      await session.close();
    }
  };
  const program = buildProgram(io, run);
  try {
    await program.parseAsync(normalizeArgv(argv), { from: 'user' });
    return code;
  } catch (e) {
    const exit = exitCodeFor(e);
    // commander has already printed its own usage errors and help
    if (!(e instanceof CommanderError)) io.err(errorText(e, exit, target, command));
    else if (isNamespaceFlag(e)) io.err(NO_NAMESPACES);
    return exit;
  }
}

/** kubectl's -n/--namespace and -A/--all-namespaces, typed by habit: commander says only "unknown option". */
const isNamespaceFlag = (e: CommanderError) =>
  e.code === 'commander.unknownOption' && /'(-n|--namespace|-A|--all-namespaces)(=[^']*)?'/.test(e.message);
const NO_NAMESPACES = 'xnet objects have no namespaces: every object is cluster-wide, as Nodes are in Kubernetes (drop -n/-A)\n';

interface EtcdTarget {
  endpoints: string[]; source: EndpointSource;
  /** TLS files were given (flags, or the running lab's): the client spoke TLS */
  tls: boolean;
  /** a client certificate or key was given (flags, or the running lab's) */
  clientCert: boolean;
  /** the client certificate's file, whose CN a refusal names as the identity xctl ran as */
  cert?: string;
}

/**
 * grpc-js's word for a connection made that closed before the server's HTTP/2 settings came:
 * something listens there but does not speak plain gRPC, as an etcd serving TLS to a client
 * that speaks none (no TLS files given); a port nothing listens on is ECONNREFUSED instead.
 */
const ANSWERED_NOT_AS_GRPC = /Last error: Failed to connect\b/;

/**
 * Node's words for a connection the server closed before answering the TLS handshake at all: a
 * plain-http etcd does so (one that refuses a certificate answers with an alert instead); when it
 * closes before it read all of the ClientHello, the kernel resets the connection: ECONNRESET
 * (2 of 30 runs of the built xctl against etcd 3.4).
 */
const NO_TLS_ANSWER = /socket disconnected before secure TLS connection was established|\bread ECONNRESET\b/i;

/**
 * What to check when etcd does not answer: the TLS files, or the endpoints where they came from.
 * A guess at the protocol (a connection accepted and closed without a word) keeps the other
 * reading, no etcd there: a TCP proxy with none behind it (docker-proxy before etcd listens, a
 * load balancer whose backends are down) does the same, whatever the protocol.
 */
function unreachableHint(why: string, at?: EtcdTarget): string {
  if (/SSL|TLS|certificate/i.test(why) || (at?.tls && at.source !== 'lab' && NO_TLS_ANSWER.test(why))) return tlsHint(why, at);
  // the lab's etcd serves TLS and xctl takes its CA: what answers there otherwise is no lab's etcd
  if (at && at.source !== 'lab' && !at.tls && ANSWERED_NOT_AS_GRPC.test(why)) return `etcd may be serving TLS: give ${at.endpoints.map((e) => e.replace(/^http:/, 'https:')).join(',')} with --cacert, and --cert and --key when etcd checks clients; else ${noEtcdHint(at)}`;
  return noEtcdHint(at);
}

/** Where the endpoints came from, to be checked. */
function noEtcdHint(at?: EtcdTarget): string {
  if (!at || at.source === 'default') return 'set --endpoints or XCTL_ENDPOINTS, or start the lab with "xctl lab up"';
  const where = at.endpoints.join(',');
  if (at.source === 'lab') return `no etcd answers at ${where}, the running lab's: see "xctl lab status"`;
  return `no etcd answers at ${where}, taken from ${at.source}: check the address and that etcd runs there`;
}

/**
 * A server that did not answer TLS at all may be a plain-http etcd (etcd3 speaks TLS to every
 * endpoint once given TLS files, whatever its scheme), or a proxy with no etcd behind it. One
 * that refused the handshake over the client's certificate (TLS 1.2's "bad certificate" alert,
 * 1.3's "certificate required"): with none given, that is etcd's --client-cert-auth asking for
 * one, which "check --cacert, --cert and --key" left to be guessed from an OpenSSL alert.
 */
function tlsHint(why: string, at?: EtcdTarget): string {
  if (NO_TLS_ANSWER.test(why)) return `etcd may be serving plain http: given --cacert, --cert or --key, xctl speaks TLS to every endpoint, also one written http://; leave them out for an etcd without TLS; else ${noEtcdHint(at)}`;
  if (at && !at.clientCert && /alert (bad certificate|certificate required)/i.test(why)) {
    return 'etcd asks for a client certificate and none was given: give --cert and --key (with --cacert, the CA that signed etcd\'s)';
  }
  return 'the TLS handshake failed: check --cacert, --cert and --key';
}

/** What a refused manifest left undone: nothing was written (apply), deleted (delete); diff and wait write nothing anyway. */
const NOTHING_DONE: Record<string, string> = { delete: 'nothing was deleted\n', diff: '', wait: '' };

function errorText(e: unknown, exit: number, at?: EtcdTarget, command = ''): string {
  if (e instanceof ManifestError) return `error: ${e.message}\n${NOTHING_DONE[command] ?? 'nothing was written\n'}`;
  const msg = (e as Error)?.message ?? String(e);
  // a CliError's message is the command's own (e.g. how far a write got before etcd went away)
  if (exit === EXIT.UNREACHABLE && !(e instanceof CliError)) {
    const why = msg.replace(/\.?\s*Resolution note:.*$/s, '').trim();
    return `error: cannot reach etcd: ${why}\n(${unreachableHint(why, at)})\n`;
  }
  if (isRefused(e instanceof CliError && e.cause !== undefined ? e.cause : e)) return refusedText(msg, at);
  return `error: ${msg}\n`;
}

/**
 * etcd refused the identity xctl connects as (e.g. a node's certificate given as --cert): say
 * so, which one it was (its certificate's CN) and which one xctl needs, instead of gRPC's "7 PERMISSION_DENIED: etcdserver: permission denied".
 * (xctl auth's own refusals are said by its asRoot: it acts as etcd's root user.)
 */
function refusedText(msg: string, at?: EtcdTarget): string {
  return `error: ${refusedCause(msg)}\n(${refusedHint({ cert: at?.cert })})\n`;
}
