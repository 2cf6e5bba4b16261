#!/usr/bin/env node
// xnet-controller: run two or more; one leads (etcd lease, --lease-ttl seconds) and allocates
// HostSubnets, NIC addresses and MacvlanNet blocks; the others keep a warm cache and take
// over when the leader's lease expires.
import { createServer } from 'node:http';
import { Command, Option } from 'commander';
import { createEtcdClient, EtcdConfigError, parseEndpoints } from '../pkg/etcd/client.js';
import { Controller } from '../pkg/controller/controller.js';
import { DEFAULT_LEADER_TTL_SECONDS } from '../pkg/runtime/leader.js';
import { createLogger } from '../pkg/log.js';

const program = new Command('xnet-controller')
  .description('xnet controller: host subnets, NIC addresses and MacvlanNet blocks, leader-elected')
  .option('--endpoints <urls>', 'etcd endpoints, comma-separated', process.env.XCTL_ENDPOINTS ?? 'http://127.0.0.1:2379')
  .option('--cacert <file>', 'etcd CA certificate')
  .option('--cert <file>', 'etcd client certificate')
  .option('--key <file>', 'etcd client key')
  .option('--prefix <prefix>', 'etcd key prefix', '/xnet')
  .option('--id <id>', 'identity in the leader election (default host:pid:random)')
  .option('--metrics-addr <addr>', 'serve /metrics and /healthz on host:port')
  .addOption(new Option('--lease-ttl <seconds>', 'leader lease TTL: a dead leader is replaced within this').default(DEFAULT_LEADER_TTL_SECONDS).argParser(Number))
  .addOption(new Option('--workers <n>', 'concurrent reconciles').default(64).argParser(Number))
  .addOption(new Option('--max-txn-ops <n>', 'etcd --max-txn-ops of the cluster').default(128).argParser(Number));

program.parse();
const o = program.opts<{
  endpoints: string; cacert?: string; cert?: string; key?: string; prefix: string; id?: string;
  metricsAddr?: string; leaseTtl: number; workers: number; maxTxnOps: number;
}>();
const log = createLogger('controller');

let client;
try {
  client = createEtcdClient({ endpoints: parseEndpoints(o.endpoints), cacert: o.cacert, cert: o.cert, key: o.key });
} catch (e) {
  process.stderr.write(`xnet-controller: ${e instanceof EtcdConfigError ? e.message : String(e)}\n`);
  process.exit(2);
}
for (const [flag, v] of [['--lease-ttl', o.leaseTtl], ['--workers', o.workers], ['--max-txn-ops', o.maxTxnOps]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`xnet-controller: ${flag} must be a positive integer\n`);
    process.exit(2);
  }
}

const controller = new Controller({
  client, prefix: o.prefix, id: o.id, leaseTtlSeconds: o.leaseTtl, workers: o.workers, maxTxnOps: o.maxTxnOps, log,
});

if (o.metricsAddr) {
  const m = /^(.*):(\d+)$/.exec(o.metricsAddr);
  if (!m) { process.stderr.write(`xnet-controller: --metrics-addr ${o.metricsAddr}: expected host:port\n`); process.exit(2); }
  createServer((req, res) => {
    if (req.url === '/healthz') { res.end('ok\n'); return; }
    if (req.url === '/metrics') {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end([
        `xnet_controller_is_leader ${controller.isLeader ? 1 : 0}`,
        `xnet_controller_terms_led_total ${controller.termsLed}`,
        `xnet_controller_cached_keys ${controller.cache.size}`,
        '',
      ].join('\n'));
      return;
    }
    res.statusCode = 404; res.end();
  }).listen(Number(m[2]), m[1] || '127.0.0.1').unref();
}

let stopping = false;
const stop = async (sig: string) => {
  if (stopping) return;
  stopping = true;
  log.info(`${sig}: resigning and stopping`);
  setTimeout(() => process.exit(1), 10_000).unref();
  try { await controller.stop(); client.close(); } finally { process.exit(0); }
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

try {
  await controller.start();
  log.info('started; campaigning for leadership', { id: controller.id, leaseTtlSeconds: o.leaseTtl });
} catch (e) {
  log.error('controller failed to start', { error: (e as Error).message });
  process.exit(1);
}
