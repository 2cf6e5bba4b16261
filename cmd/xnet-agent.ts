#!/usr/bin/env node
// xnet-agent: one per host. Converges this host (or, with --netns/--docker-host, one simulated
// host of the lab) to what etcd declares, and keeps it so.
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { dockerOptions } from '../pkg/docker/client.js';
import { createEtcdClient, EtcdConfigError, parseEndpoints } from '../pkg/etcd/client.js';
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import { Agent, AGENT_VERSION } from '../pkg/agent/agent.js';
import { createLogger } from '../pkg/log.js';
import { name as nameSchema } from '../pkg/api/fields.js';

const program = new Command('xnet-agent')
  .description('xnet node agent: routes, bridges, NICs and macvlan networks of one host')
  .version(AGENT_VERSION)
  .requiredOption('--node <name>', 'this host\'s Node name')
  .option('--endpoints <urls>', 'etcd endpoints, comma-separated', process.env.XCTL_ENDPOINTS ?? 'http://127.0.0.1:2379')
  .option('--cacert <file>', 'etcd CA certificate')
  .option('--cert <file>', 'etcd client certificate')
  .option('--key <file>', 'etcd client key')
  .option('--prefix <prefix>', 'etcd key prefix', '/xnet')
  .option('--netns <name>', 'manage this network namespace (a simulated host) instead of our own')
  .option('--docker-host <url>', 'Docker daemon of the managed host (unix:///path or tcp://host:port)')
  .addOption(new Option('--resync <seconds>', 'full resync interval (a safety net; events do the work)').default('30').argParser(Number));

program.parse();
const o = program.opts<{ node: string; endpoints: string; cacert?: string; cert?: string; key?: string; prefix: string; netns?: string; dockerHost?: string; resync: number }>();

const log = createLogger('agent', { node: o.node });
const checked = nameSchema.safeParse(o.node);
if (!checked.success) {
  process.stderr.write(`xnet-agent: --node ${o.node}: ${checked.error.issues[0].message}\n`);
  process.exit(2);
}

if (o.netns && !existsSync(`/var/run/netns/${o.netns}`)) {
  process.stderr.write(`xnet-agent: --netns ${o.netns}: no such network namespace (see \`ip netns list\`)\n`);
  process.exit(2);
}
try {
  dockerOptions(o.dockerHost);
} catch (e) {
  process.stderr.write(`xnet-agent: ${(e as Error).message}\n`);
  process.exit(2);
}

let etcd;
try {
  etcd = createEtcdClient({ endpoints: parseEndpoints(o.endpoints), cacert: o.cacert, cert: o.cert, key: o.key });
} catch (e) {
  process.stderr.write(`xnet-agent: ${e instanceof EtcdConfigError ? e.message : String(e)}\n`);
  process.exit(2);
}
const store = createEtcdStore(etcd, o.prefix);
const agent = new Agent({
  node: o.node, store, etcd, prefix: o.prefix, netns: o.netns, dockerHost: o.dockerHost, resyncMs: o.resync * 1000, log,
});

let stopping = false;
const stop = async (sig: string) => {
  if (stopping) return;
  stopping = true;
  log.info(`${sig}: stopping; the dataplane stays as it is`);
  const hard = setTimeout(() => process.exit(1), 10_000);
  hard.unref();
  try {
    await agent.stop();
    await store.close().catch(() => undefined);
    etcd.close();
  } finally {
    process.exit(0);
  }
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

try {
  await agent.start();
  await agent.firstPass;
  log.info('first pass done; following events');
} catch (e) {
  if (!stopping) {
    log.error('agent failed to start', { error: (e as Error).message });
    process.exit(1);
  }
}
