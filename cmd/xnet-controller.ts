#!/usr/bin/env node
// xnet-controller: run two or more; one leads (etcd lease, --lease-ttl seconds) and allocates
// HostSubnets, NIC addresses and MacvlanNet blocks; the others watch and hold what changes
// (decoded when they start leading) and take over when the leader's lease expires.
import { Option } from 'commander';
import { addEtcdFlags, addMetricsFlag, checkMetricsAddr, daemonCommand, etcdFromFlags, exitOnUncaught, serveMetrics, startOrExit, stopOnSignals, usageExit, type EtcdFlags } from '../pkg/cli/daemon.js';
import { Controller, DEFAULT_WORKERS, MAX_ADDRESS_COOLDOWN_S } from '../pkg/controller/controller.js';
import { DEFAULT_LEADER_TTL_SECONDS } from '../pkg/runtime/leader.js';
import { createLogger } from '../pkg/log.js';

const program = addMetricsFlag(addEtcdFlags(daemonCommand('xnet-controller', 'xnet controller: host subnets, NIC addresses and MacvlanNet blocks, leader-elected'))
  .option('--id <id>', 'identity in the leader election (default host:pid:random)'))
  .addOption(new Option('--lease-ttl <seconds>', 'leader lease TTL: a dead leader is replaced within this').default(DEFAULT_LEADER_TTL_SECONDS).argParser(Number))
  .addOption(new Option('--workers <n>', 'concurrent reconciles').default(DEFAULT_WORKERS).argParser(Number))
  .addOption(new Option('--max-txn-ops <n>', 'etcd --max-txn-ops of the cluster').default(128).argParser(Number))
  .addOption(new Option('--address-cooldown <seconds>', 'a released address is not handed out again for this long').default(30).argParser(Number));

program.parse();
const o = program.opts<EtcdFlags & { id?: string; metricsAddr?: string; leaseTtl: number; workers: number; maxTxnOps: number; addressCooldown: number }>();
const log = createLogger('controller');
exitOnUncaught(log, 'xnet-controller');

checkMetricsAddr('xnet-controller', o.metricsAddr);
const client = etcdFromFlags('xnet-controller', o);
for (const [flag, v] of [['--lease-ttl', o.leaseTtl], ['--workers', o.workers], ['--max-txn-ops', o.maxTxnOps]] as const) {
  if (!Number.isInteger(v) || v < 1) usageExit('xnet-controller', `${flag} must be a positive integer`);
}
if (!(o.addressCooldown >= 0 && o.addressCooldown <= MAX_ADDRESS_COOLDOWN_S)) usageExit('xnet-controller', `--address-cooldown must be a number of seconds from 0 to ${MAX_ADDRESS_COOLDOWN_S}`);

const controller = new Controller({
  client, prefix: o.prefix, id: o.id, leaseTtlSeconds: o.leaseTtl, workers: o.workers, maxTxnOps: o.maxTxnOps, log,
  addressCooldownMs: o.addressCooldown * 1000,
});

let started = false;
await serveMetrics('xnet-controller', o.metricsAddr, { component: 'controller' },
  () => (started ? undefined : 'loading the cache from etcd'), log);

const signals = stopOnSignals(log, 'xnet-controller', 'resigning and stopping', async () => {
  await controller.stop();
  client.close();
});

// a SIGTERM while it starts makes the start fail (its client closed): the stop's exit code stands
if (await startOrExit(signals, log, 'xnet-controller', () => controller.start())) {
  started = true;
  // startupMs: from the process's start (loading its modules included) to a loaded cache
  log.info('started; campaigning for leadership', { id: controller.id, leaseTtlSeconds: o.leaseTtl, startupMs: Math.round(process.uptime() * 1000) });
}
