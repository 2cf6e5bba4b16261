// Fault 4: each agent SIGKILLed and restarted, one host after the other. The data plane is the
// kernel's and Docker's: nothing may be lost, not even on the host whose agent died, and the
// restarted agent must adopt what it finds (its own marks) instead of rebuilding it.
import { killLabProcess, startAgent } from '../../../pkg/lab/index.js';
import { proxyEndpoints } from '../lab.js';
import { nodesReady, sleep } from '../workload.js';
import type { Fault } from './types.js';

export const agentsKilled: Fault = {
  id: 4,
  title: 'each agent SIGKILLed and restarted',
  exercises: 'agent start-up against a host that already holds its state: Agent.start (register, informers, '
    + 'followDocker, followKernel), the planners\' diff of desired and observed state (pkg/agent/planner), '
    + 'node lease re-grant (Store.nodeLease), NIC adoption by mark (pkg/agent/reconcilers/nics.ts)',
  async inject({ c, say }) {
    for (const h of c.hosts) {
      if (!(await killLabProcess(c.lab, `agent/${h.name}`))) throw new Error(`agent of ${h.name} was not running`);
      await sleep(1000);
      await startAgent(c.lab, h, proxyEndpoints(h));
      say(`${h.name}: agent killed (SIGKILL), restarted after 1 s`);
    }
    return {
      end: Date.now(),
      settled: () => nodesReady(c),
    };
  },
};
