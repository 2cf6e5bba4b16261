#!/usr/bin/env node
// xnet-agent: one per host. Converges this host (or, with --netns/--docker-host, one simulated
// host of the lab) to what etcd declares, and keeps it so.
import { checkMetricsAddr, etcdFromFlags, exitOnUncaught, serveMetrics, startOrExit, stopOnSignals, usageExit } from '../pkg/cli/daemon.js';
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import { Agent } from '../pkg/agent/agent.js';
import { createLogger } from '../pkg/log.js';
import { agentFlagsProblem, parseAgentFlags } from '../pkg/cli/agent-flags.js';
import { JournalUnreadableError } from '../pkg/dockeripam/journal.js';

const { o, node, dockerTls } = parseAgentFlags(process.argv);

const log = createLogger('agent', { node });
exitOnUncaught(log, 'xnet-agent');
const problem = agentFlagsProblem(o, node, dockerTls);
if (problem !== undefined) usageExit('xnet-agent', problem);

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
