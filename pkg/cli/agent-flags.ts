// xnet-agent's flags and the checks that refuse them before anything starts (exit 2 in the
// program, cmd/xnet-agent.ts). Apart from the program so that the checks run in a test's
// process too (each start of the built agent costs about half a CPU second of module loading).
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { dockerOptions, type DockerTlsFiles } from '../docker/client.js';
import { addEtcdFlags, addMetricsFlag, daemonCommand, type EtcdFlags } from './daemon.js';
import { defaultNodeName } from './node-name.js';
import { name as nameSchema } from '../api/fields.js';

export interface AgentFlags extends EtcdFlags {
  node?: string; netns?: string; dockerHost?: string; dockerTlsCa?: string; dockerTlsCert?: string; dockerTlsKey?: string;
  resync: number; workerBudget: number; settleGrace: number; externalQuarantine: number; metricsAddr?: string;
  ipamPlugin: string | false; pluginDir: string; stateDir?: string;
}

/** The xnet-agent command line (commander: a usage error of its own exits 2, --help and --version 0). */
export function agentCommand(): Command {
  return addMetricsFlag(addEtcdFlags(daemonCommand('xnet-agent', 'xnet node agent: routes, bridges, NICs and macvlan networks of one host')
    .option('--node <name>', 'this host\'s Node name (default: the short host name, as the systemd unit\'s %l)')))
    .option('--netns <name>', 'manage this network namespace (a simulated host) instead of our own')
    .option('--docker-host <url>', 'Docker daemon of the managed host (unix:///path, or tcp://host:port with the --docker-tls-* files)')
    .option('--docker-tls-ca <file>', 'CA that signed the daemon\'s certificate (tcp:// only)')
    .option('--docker-tls-cert <file>', 'this agent\'s client certificate for the daemon (tcp:// only)')
    .option('--docker-tls-key <file>', 'its key (tcp:// only)')
    .option('--ipam-plugin <name>', 'serve Docker\'s IPAM plugin under this name for MacvlanNets with dockerIPAM xnet', 'xnet')
    .option('--no-ipam-plugin', 'serve no IPAM plugin (MacvlanNets here then need dockerIPAM: blocks)')
    .option('--plugin-dir <dir>', 'Docker\'s plugin directory', '/run/docker/plugins')
    .option('--state-dir <dir>', 'where the agent keeps its IPAM journal, what it changed on parent interfaces and the Docker networks it made (default /var/lib/xnet/<node>)')
    .addOption(new Option('--external-quarantine <seconds>', 'how long an address that answered this node\'s ARP probe stays marked external before it is probed again (plus up to 20 % at random; 0: never)').default(600).argParser(Number))
    .addOption(new Option('--resync <seconds>', 'full resync interval (a safety net; events do the work)').default(30).argParser(Number))
    .addOption(new Option('--worker-budget <seconds>', 'a reconcile running longer makes the Node Ready=False, reason AgentStuck').default(120).argParser(Number))
    .addOption(new Option('--settle-grace <seconds>', 'how long a never-Ready object\'s passing not-Ready reason is a Normal event before it is a Warning (0: at once)').default(15).argParser(Number));
}

/** The flags of `argv` (the program's process.argv, or a test's arguments with from 'user') and the Node name they give. */
export function parseAgentFlags(argv: readonly string[], from: 'node' | 'user' = 'node'): { o: AgentFlags; node: string; dockerTls: DockerTlsFiles } {
  const o = agentCommand().parse(argv, { from }).opts<AgentFlags>();
  return { o, node: o.node ?? defaultNodeName(), dockerTls: { ca: o.dockerTlsCa, cert: o.dockerTlsCert, key: o.dockerTlsKey } };
}

/** Why the agent must not start with these flags (the program exits 2 with it), or undefined. Etcd's and --metrics-addr's checks come after. */
export function agentFlagsProblem(o: AgentFlags, node: string, dockerTls: DockerTlsFiles): string | undefined {
  const checked = nameSchema.safeParse(node);
  if (!checked.success) return `--node ${node}${o.node === undefined ? ' (the short host name: none given)' : ''}: ${checked.error.issues[0].message}`;
  if (o.netns && !existsSync(`/var/run/netns/${o.netns}`)) return `--netns ${o.netns}: no such network namespace (see \`ip netns list\`)`;
  if (o.ipamPlugin && !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(o.ipamPlugin)) return `--ipam-plugin ${o.ipamPlugin}: expected lower-case letters, digits, '.', '_' or '-'`;
  // Bounded above: Node runs a timer of more than 2^31-1 ms (24.8 days; 1e10 s, Infinity) after 1 ms.
  for (const [flag, v, max, text] of [['--resync', o.resync, 86_400, 'a day'], ['--worker-budget', o.workerBudget, 3600, 'an hour']] as const) {
    if (!(v > 0 && v <= max)) return `${flag}: expected a positive number of seconds, at most ${max} (${text})`;
  }
  // 0 is allowed: every not-Ready reason a Warning at once, as before the grace existed
  if (!(o.settleGrace >= 0 && o.settleGrace <= 3600)) return '--settle-grace: expected a number of seconds from 0 to 3600 (an hour)';
  // 0: marks kept while the Node exists, as before re-probing; at most a day (Node's timers: above)
  if (!(o.externalQuarantine >= 0 && o.externalQuarantine <= 86_400)) return '--external-quarantine: expected a number of seconds from 0 to 86400 (a day)';
  try {
    dockerOptions(o.dockerHost, dockerTls);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}
