#!/usr/bin/env node
// xnet-agent: one per host. Converges this host (or, with --netns/--docker-host, one simulated
// host of the lab) to what etcd declares, and keeps it so.
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { dockerOptions } from '../pkg/docker/client.js';
import { addEtcdFlags, addMetricsFlag, checkMetricsAddr, daemonCommand, etcdFromFlags, exitOnUncaught, serveMetrics, startOrExit, stopOnSignals, usageExit, type EtcdFlags } from '../pkg/cli/daemon.js';
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import { Agent } from '../pkg/agent/agent.js';
import { createLogger } from '../pkg/log.js';
import { defaultNodeName } from '../pkg/cli/node-name.js';
import { name as nameSchema } from '../pkg/api/fields.js';
import { JournalUnreadableError } from '../pkg/dockeripam/journal.js';

const program = addMetricsFlag(addEtcdFlags(daemonCommand('xnet-agent', 'xnet node agent: routes, bridges, NICs and macvlan networks of one host')
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

program.parse();
const o = program.opts<EtcdFlags & { node?: string; netns?: string; dockerHost?: string; dockerTlsCa?: string; dockerTlsCert?: string; dockerTlsKey?: string; resync: number; workerBudget: number; settleGrace: number; externalQuarantine: number; metricsAddr?: string; ipamPlugin: string | false; pluginDir: string; stateDir?: string }>();
const node = o.node ?? defaultNodeName();
const dockerTls = { ca: o.dockerTlsCa, cert: o.dockerTlsCert, key: o.dockerTlsKey };

const log = createLogger('agent', { node });
exitOnUncaught(log, 'xnet-agent');
const checked = nameSchema.safeParse(node);
if (!checked.success) usageExit('xnet-agent', `--node ${node}${o.node === undefined ? ' (the short host name: none given)' : ''}: ${checked.error.issues[0].message}`);
if (o.netns && !existsSync(`/var/run/netns/${o.netns}`)) {
  usageExit('xnet-agent', `--netns ${o.netns}: no such network namespace (see \`ip netns list\`)`);
}
if (o.ipamPlugin && !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(o.ipamPlugin)) usageExit('xnet-agent', `--ipam-plugin ${o.ipamPlugin}: expected lower-case letters, digits, '.', '_' or '-'`);
// Bounded above: Node runs a timer of more than 2^31-1 ms (24.8 days; 1e10 s, Infinity) after 1 ms.
for (const [flag, v, max, text] of [['--resync', o.resync, 86_400, 'a day'], ['--worker-budget', o.workerBudget, 3600, 'an hour']] as const) {
  if (!(v > 0 && v <= max)) usageExit('xnet-agent', `${flag}: expected a positive number of seconds, at most ${max} (${text})`);
}
// 0 is allowed: every not-Ready reason a Warning at once, as before the grace existed
if (!(o.settleGrace >= 0 && o.settleGrace <= 3600)) usageExit('xnet-agent', `--settle-grace: expected a number of seconds from 0 to 3600 (an hour)`);
// 0: marks kept while the Node exists, as before re-probing; at most a day (Node's timers: above)
if (!(o.externalQuarantine >= 0 && o.externalQuarantine <= 86_400)) usageExit('xnet-agent', '--external-quarantine: expected a number of seconds from 0 to 86400 (a day)');
try {
  dockerOptions(o.dockerHost, dockerTls);
} catch (e) {
  usageExit('xnet-agent', (e as Error).message);
}

checkMetricsAddr('xnet-agent', o.metricsAddr);
const etcd = etcdFromFlags('xnet-agent', o);
const store = createEtcdStore(etcd, o.prefix, createLogger('store', { node }));
/** The agent; an IPAM journal that exists but cannot be read stops it here (exit 1), before it serves anything. */
function makeAgent(): Agent {
  try {
    return new Agent({
      node, store, etcd, prefix: o.prefix, netns: o.netns, dockerHost: o.dockerHost, dockerTls, resyncMs: o.resync * 1000, workerBudgetMs: o.workerBudget * 1000, settleGraceMs: o.settleGrace * 1000, externalQuarantineMs: o.externalQuarantine * 1000, log,
      ...(o.ipamPlugin ? { ipamPlugin: o.ipamPlugin, pluginDir: o.pluginDir } : {}), ...(o.stateDir ? { stateDir: o.stateDir } : {}),
    });
  } catch (e) {
    if (!(e instanceof JournalUnreadableError)) throw e;
    log.error('agent failed to start', { error: e.message });
    // winston writes asynchronously; the same line on stderr survives the exit
    process.stderr.write(`xnet-agent: ${e.message}\n`);
    process.exit(1);
  }
}
const agent = makeAgent();

const signals = stopOnSignals(log, 'xnet-agent', 'stopping; the dataplane stays as it is', async () => {
  await agent.stop();
  await store.close().catch(() => undefined);
  etcd.close();
});

let firstPassDone = false;
await serveMetrics('xnet-agent', o.metricsAddr, { component: 'agent', node },
  () => (firstPassDone ? undefined : 'the first pass over every object has not finished'), log);

if (await startOrExit(signals, log, 'xnet-agent', async () => { await agent.start(); await agent.firstPass; })) {
  firstPassDone = true;
  log.info('first pass done; following events');
}
