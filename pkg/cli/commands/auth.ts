// `xctl auth init | add-node | remove-node`: the etcd identities of an installation
// (docs/design.md, "Who may write what"). Certificates are made in --ca-dir (pkg/auth/pki.ts); users and roles
// (pkg/auth/roles.ts) are changed as etcd's root, whose certificate init puts in --ca-dir.
import { Command } from 'commander';
import { clusterIdentities, nodeIdentity } from '../../auth/bootstrap.js';
import { addNodeAuth, initAuth, removeNodeAuth } from '../../auth/etcd-auth.js';
import { CertificateAuthority, type Identity } from '../../auth/pki.js';
import { nodeUser } from '../../auth/roles.js';
import { createEtcdClient, type EtcdConnection } from '../../etcd/client.js';
import { runningLabAuth } from '../../lab/state.js';
import { DEFAULT_PREFIX, Keys } from '../../store/keys.js';
import { connection, type GlobalOptions } from '../connect.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import type { CliIO } from '../io.js';
import { addInheriting, type RegisterCommand } from '../command.js';

type Out = (s: string) => void;

function checkNodeName(name: string): void {
  try {
    nodeUser(name);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * Changing users and roles needs etcd's root: the --cacert/--cert/--key flags when given, else
 * root's certificate in --ca-dir, else (against the running lab) the lab's root.
 */
function rootConnection(g: GlobalOptions, env: CliIO['env'], caDir: string | undefined): EtcdConnection {
  const conn = connection(g, env);
  if (g.cert || g.key) return conn;
  if (caDir) {
    const ca = new CertificateAuthority(caDir);
    const root = ca.identity('root');
    return { endpoints: conn.endpoints, cacert: g.cacert ?? ca.caCert, cert: root.cert, key: root.key };
  }
  const lab = runningLabAuth();
  if (lab && !g.endpoints && !env.XCTL_ENDPOINTS) return { endpoints: conn.endpoints, cacert: lab.ca, cert: lab.root.cert, key: lab.root.key };
  throw new UsageError('give --ca-dir (holding root.pem from `xctl auth init`) or --cacert, --cert and --key of etcd\'s root user');
}

async function asRoot<T>(conn: EtcdConnection, f: (c: ReturnType<typeof createEtcdClient>) => Promise<T>): Promise<T> {
  const c = createEtcdClient(conn);
  try {
    return await f(c);
  } catch (e) {
    if (/permission denied|not authorized|user name is empty/i.test((e as Error).message)) {
      throw new CliError(EXIT.FAILED, `etcd refused the change: ${(e as Error).message} (users and roles change only as etcd's root user)`);
    }
    throw e;
  } finally {
    c.close();
  }
}

const show = (what: string, id: Identity) => `${what}: ${id.cert} (key ${id.key})`;

async function init(out: Out, io: CliIO, o: { caDir: string; prefix: string }, g: GlobalOptions): Promise<void> {
  const ca = new CertificateAuthority(o.caDir);
  const made = !ca.exists();
  const ids = await clusterIdentities(o.caDir);
  out(`CA ${made ? 'created' : 'kept'}: ${ca.caCert}`);
  for (const [what, id] of [['root', ids.root], ['xnet-controller', ids.controller], ['xnet-admin', ids.admin]] as const) out(show(what, id));
  const nodes = await asRoot(rootConnection(g, io.env, o.caDir), (c) => initAuth(c, new Keys(o.prefix)));
  if (nodes.length) out(`node roles brought up to date: ${nodes.map(nodeUser).join(', ')}`);
  out('users and roles root, xnet-controller, xnet-admin are in place; etcd auth is enabled');
}

async function addNode(out: Out, io: CliIO, name: string, o: { caDir: string; out: string; prefix: string }, g: GlobalOptions): Promise<void> {
  checkNodeName(name);
  const ca = new CertificateAuthority(o.caDir);
  if (!ca.exists()) throw new CliError(EXIT.FAILED, `no CA in ${o.caDir} (run \`xctl auth init --ca-dir ${o.caDir}\` first)`);
  const id = await nodeIdentity(ca, name, o.out);
  const caCopy = ca.exportCaCert(o.out);
  await asRoot(rootConnection(g, io.env, o.caDir), (c) => addNodeAuth(c, name, new Keys(o.prefix)));
  out(show(`node ${name}`, id));
  out(`CA certificate: ${caCopy}`);
  out(`user and role ${nodeUser(name)}: writes only its own status, heartbeat, events and observed-state keys`);
}

async function removeNode(out: Out, io: CliIO, name: string, o: { caDir?: string }, g: GlobalOptions): Promise<void> {
  checkNodeName(name);
  const r = await asRoot(rootConnection(g, io.env, o.caDir), (c) => removeNodeAuth(c, name));
  if (!r.user && !r.role) throw new CliError(EXIT.NOT_FOUND, `no user or role ${nodeUser(name)} in etcd`);
  out(`user and role ${nodeUser(name)} removed: etcd refuses its certificate from now on`);
}

export function authCommand(io: CliIO): Command {
  const out: Out = (s) => io.out(s.endsWith('\n') ? s : s + '\n');
  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;
  const auth = new Command('auth').description('etcd identities: a CA, one certificate and role per node, auth enabled');
  auth.command('init')
    .description('create the CA (unless DIR has one), root/xnet-controller/xnet-admin identities and roles, enable auth; safe to repeat')
    .requiredOption('--ca-dir <dir>', 'directory of the CA and the identities it issues')
    .option('--prefix <prefix>', 'etcd key prefix', DEFAULT_PREFIX)
    .action((o, cmd: Command) => init(out, io, o, globals(cmd)));
  auth.command('add-node')
    .description('issue a node\'s certificate and key (0600) and create its user and role')
    .argument('<name>', 'the node name (its agent\'s --node)')
    .requiredOption('--ca-dir <dir>', 'directory of the CA')
    .requiredOption('--out <dir>', 'where the node\'s certificate, key and the CA certificate go')
    .option('--prefix <prefix>', 'etcd key prefix', DEFAULT_PREFIX)
    .action((name: string, o, cmd: Command) => addNode(out, io, name, o, globals(cmd)));
  auth.command('remove-node')
    .description('delete a node\'s etcd user and role: its certificate opens nothing any more')
    .argument('<name>')
    .option('--ca-dir <dir>', 'directory of the CA (its root identity is used)')
    .action((name: string, o, cmd: Command) => removeNode(out, io, name, o, globals(cmd)));
  auth.exitOverride();
  for (const c of auth.commands) c.exitOverride();
  return auth;
}

export const registerAuth: RegisterCommand = (program, { io }) => {
  addInheriting(program, authCommand(io));
};
