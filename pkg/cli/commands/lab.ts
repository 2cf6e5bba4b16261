// `xctl lab up [--hosts N] | down | status [-o json] | exec HOST -- CMD...` (docs/api.md).
// The lab needs no etcd session of its own, so these actions run outside xctl's session
// helper; failures are thrown and printed by xctl like any other error. What builds, reads and
// removes a lab (pkg/lab: dockerd, etcd, the controller and agent code) is imported by the
// subcommand that runs, so that no other xctl command pays for loading it at start.
import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError } from 'commander';
import { CliError } from '../exit.js';
import type { CliIO } from '../io.js';
import { givenEndpoints } from '../connect.js';
import { addInheriting, type RegisterCommand } from '../command.js';
import { LabError } from '../../lab/errors.js';
import { defaultLabDir, readRecord, userLabId } from '../../lab/record.js';
import type { LabStatus } from '../../lab/status.js';
import type { Started } from '../../lab/services.js';

type Out = (s: string) => void;

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i] + 2))).join('').trimEnd()).join('\n');
}

function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('NotRoot', 'the lab makes network namespaces and runs Docker daemons, which needs root', 'run it as root (sudo)');
  }
}

function count(max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`use a whole number from 1 to ${max}`);
    return n;
  };
}

/** What `up` on a running lab says about a `--hosts` the user gave (the default asks for no size). */
export function resizeHint(asked: number | undefined, has: number): string {
  return asked !== undefined && asked !== has ? ` (--hosts ${asked} does not resize it: \`xctl lab down\` first)` : '';
}

/** What `up` on a lab that was up says: what it started again, and a dockerd found running (started by hand) that it recorded. */
export function restartedLine(hosts: string[], started: Started[], size: string): string {
  const again = started.filter((s) => !s.missing && !s.adopted).map((s) => s.id);
  const recorded = started.filter((s) => s.adopted).map((s) => s.id);
  const none = started.some((s) => s.missing) ? 'nothing (not built: npm run build)' : 'nothing';
  return `lab already up: ${hosts.join(', ')}${size}; started again: ${again.join(', ') || none}${recorded.length ? `; found running and recorded: ${recorded.join(', ')}` : ''}`;
}

async function up(out: Out, env: CliIO['env'], opts: { hosts: number; controllers: number }, cmd: Command): Promise<void> {
  requireRoot();
  const g = cmd.optsWithGlobals() as { endpoints?: string };
  const endpoints = givenEndpoints(g, env);
  const t0 = Date.now();
  const askedHosts = cmd.getOptionValueSource('hosts') === 'cli' ? opts.hosts : undefined;
  try {
    const { labUp } = await import('../../lab/up.js');
    const r = await labUp({ id: userLabId(), dir: defaultLabDir(), hosts: opts.hosts, controllers: opts.controllers, endpoints, progress: (l) => out(`· ${l}`) });
    if (r.restarted) {
      out(restartedLine(r.hosts.map((h) => h.name), r.started, resizeHint(askedHosts, r.hosts.length)));
      return;
    }
    out(`lab up in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${r.hosts.map((h) => h.name).join(', ')}; etcd ${r.endpoints.join(',')}`);
    out('next: xctl get nodes · xctl lab exec host-1 -- docker ps · xctl lab status · xctl lab down');
  } catch (e) {
    if (e instanceof LabError && e.reason === 'LabExists') {
      // nothing was started again, the lab is as it was: a --hosts of another size was not made either
      const has = readRecord(defaultLabDir())?.hosts.length;
      const size = has === undefined ? '' : resizeHint(askedHosts, has);
      throw size ? new LabError('LabExists', `${e.message}${size}`) : e;
    }
    // on a lab that was up: what was started again and what could not be, said as it is
    if (e instanceof LabError && e.reason === 'RestartIncomplete') throw e;
    throw new LabError('UpFailed', `lab up failed: ${(e as Error).message}`, `logs are in ${defaultLabDir()}; remove what was made with \`xctl lab down\``);
  }
}

async function down(out: Out): Promise<void> {
  requireRoot();
  if (!readRecord(defaultLabDir())) {
    out('no lab is up; nothing to remove');
    return;
  }
  const { destroyLab } = await import('../../lab/down.js');
  const r = await destroyLab(defaultLabDir(), { progress: (l) => out(`· ${l}`) });
  out(`lab ${r.labId} removed: ${r.stopped.length} processes stopped, ${r.netns.length} namespaces deleted`);
}

function printStatus(out: Out, st: LabStatus): void {
  const rec = st.record;
  const auth = rec.auth ? ` (TLS; xctl uses ${rec.auth.admin.cert})` : '';
  out(`lab ${rec.labId} in ${rec.dir}${rec.complete ? '' : ' (incomplete: up did not finish)'}; etcd ${rec.endpoints?.join(',') ?? '-'}${auth}`);
  out(table([
    ['HOST', 'ADDRESS', 'NAMESPACE', 'DOCKER', 'AGENT'],
    ...st.hosts.map((h) => [h.name, h.address, h.namespace ? h.netns : `${h.netns} (missing)`, h.docker ? 'running' : 'not answering', h.agentPid ? `${h.agent} (pid ${h.agentPid})` : h.agent]),
  ]));
  out('');
  out(table([['PROCESS', 'PID', 'STATE', 'LOG'], ...st.processes.map((p) => [p.id, p.pid ? String(p.pid) : '-', p.state, p.log])]));
}

/** What `lab status -o` takes (also what completion offers after it). */
export const LAB_STATUS_OUTPUTS = ['json'];

async function status(out: Out, opts: { output?: string }): Promise<void> {
  if (opts.output !== undefined && !LAB_STATUS_OUTPUTS.includes(opts.output)) throw new CliError(2, `unknown output format "${opts.output}"; use json`);
  const { labStatus, labStatusJson } = await import('../../lab/status.js');
  const st = await labStatus(defaultLabDir());
  if (!st) throw new CliError(1, 'no lab is up (build one with `xctl lab up`)');
  if (opts.output === 'json') {
    out(JSON.stringify(labStatusJson(st), null, 2));
    if (!st.healthy) throw new CliError(1, 'the lab is not fully running');
    return;
  }
  printStatus(out, st);
  if (!st.healthy) throw new CliError(1, 'the lab is not fully running (see the states above and the logs)');
}

async function exec(hostName: string, argv: string[]): Promise<void> {
  const rec = readRecord(defaultLabDir());
  if (!rec) throw new CliError(1, 'no lab is up (build one with `xctl lab up`)');
  const host = rec.hosts.find((h) => h.name === hostName);
  if (!host) throw new CliError(4, `no host ${hostName} in the lab (hosts: ${rec.hosts.map((h) => h.name).join(', ')})`);
  const { hostEnv, hostExecArgv } = await import('../../lab/exec.js');
  const full = hostExecArgv(host, argv);
  const end = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(full[0], full.slice(1), { stdio: 'inherit', env: { ...process.env, ...hostEnv(host) } });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  // a signal's end is 128 (docs/lab.md); "exited with status 128" read as the command's own status
  if (end.signal) throw new CliError(128, `${argv.join(' ')} on ${hostName} was ended by signal ${end.signal} (exit 128)`);
  const code = end.code ?? 1;
  if (code !== 0) throw new CliError(code, `${argv.join(' ')} on ${hostName} exited with status ${code}`);
}

export function labCommand(io: CliIO): Command {
  const out: Out = (s) => io.out(s.endsWith('\n') ? s : s + '\n');
  const lab = new Command('lab').description(`multi-host lab on this machine: network namespaces with their own Docker daemon on one underlay (state in ${defaultLabDir()}, or $XNET_LAB_DIR)`);
  lab.command('up')
    .description('build hosts host-1..host-N, a local etcd with TLS and auth (unless --endpoints is given), two controllers and one agent per host; on a lab that is up, start again the dockerds, agents and controllers that died')
    .option('--hosts <n>', 'number of hosts', count(50), 2)
    .option('--controllers <n>', 'number of controllers', count(5), 2)
    .action((opts: { hosts: number; controllers: number }, cmd: Command) => up(out, io.env, opts, cmd));
  lab.command('down')
    .description('remove every namespace, process, mount and file the lab made (also after a crash)')
    .action(() => down(out));
  lab.command('status')
    .description('hosts and processes of the lab, alive or dead; exit 1 unless all are running')
    .option('-o, --output <format>', 'json: one object with etcd (endpoints, CA, admin identity), every host (with its credentials), process and metrics address')
    .action((opts: { output?: string }) => status(out, opts));
  lab.command('exec')
    .description('run a command in a host\'s network namespace with DOCKER_HOST set to its Docker daemon')
    .argument('<host>', 'host-1, host-2...')
    .argument('<command...>', 'the command, after --')
    .action((hostName: string, argv: string[]) => exec(hostName, argv));
  // usage errors surface as CommanderError to xctl (exit code 2) instead of exiting the process
  lab.exitOverride();
  for (const c of lab.commands) c.exitOverride();
  return lab;
}

export const registerLab: RegisterCommand = (program, { io }) => {
  addInheriting(program, labCommand(io));
};
