// The NIC garbage pass beside a NIC's own reconcile (they run side by side on the agent's
// queue): a NIC made while the pass reads the host is not garbage (pkg/agent/reconcilers/nics.ts).
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ContainerNic } from '../../pkg/api/index.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import type { Op } from '../../pkg/agent/planner/ops.js';
import { nicAlias, vethHostName } from '../../pkg/agent/planner/names.js';
import { collectNicGarbage } from '../../pkg/agent/reconcilers/nics.js';
import type { Link } from '../../pkg/netlink/types.js';

const link = (name: string, alias: string): Link => ({ ifindex: 1, name, kind: 'veth', alias, mac: '02:00:00:00:00:01', mtu: 1500, up: true, promisc: false });
const nic = (name: string) => ({ apiVersion: API_VERSION, kind: 'ContainerNic', metadata: { name }, spec: { node: 'host-1', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } } }) as unknown as ContainerNic;

describe('the NIC garbage pass', () => {
  it('keeps the host end of a NIC that arrived, and was made, while the pass read the host', async () => {
    const nics: ContainerNic[] = [];
    const executed: Op[] = [];
    const ctx = {
      node: 'host-1',
      log: { info: () => undefined },
      unreadable: () => [],
      caches: { nics: { list: () => nics } },
      dp: {
        // the NIC's reconcile runs meanwhile: its object is in the cache, then its link is made
        hostState: async () => { nics.push(nic('new')); return { links: [link(vethHostName('new'), nicAlias('new')), link(vethHostName('gone'), nicAlias('gone'))], addrs: [], routes: [] }; },
        execute: async (ops: Op[]) => { executed.push(...ops); },
      },
    } as unknown as AgentContext;
    await collectNicGarbage(ctx);
    expect(executed).toEqual([{ op: 'link.del', name: vethHostName('gone') }]);
  });
});
