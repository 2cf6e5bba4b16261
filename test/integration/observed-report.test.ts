// The agent's observed-state report (what `xctl verify` reads for each host) is written again
// after a write that failed: a node whose access was removed (`xctl auth remove-node`) and given
// back (`add-node`), after its report's lease was lost meanwhile, reports again at its next
// check instead of staying "none: its agent is not running" for as long as nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNodeAuth, removeNodeAuth } from '../../pkg/auth/etcd-auth.js';
import { createLogger } from '../../pkg/log.js';
import { Keys } from '../../pkg/store/keys.js';
import { ObservedReporter } from '../../pkg/verify/report.js';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { eventually } from './helpers.js';

let etcd: TestEtcd;
beforeAll(async () => { etcd = await startEtcd({ auth: true }); }, 60_000);
afterAll(async () => { await etcd?.stop(); });

describe('observed-state report', () => {
  it('is written again once the node may write, after a refused write', async () => {
    const auth = etcd.auth!;
    const root = auth.clientAs(auth.ids.root);
    const key = new Keys().nodeObserved('host-1');
    const reporter = new ObservedReporter({ client: auth.clientAs(await auth.addNode('host-1')), node: 'host-1', ttlSeconds: 3, log: createLogger('test') });
    try {
      await reporter.publish([]);
      const lease = (await root.get(key).exec()).kvs[0].lease;
      // its lease goes (etcd let it expire): the report goes with it
      await root.leaseClient.leaseRevoke({ ID: lease });
      await eventually(async () => (await root.get(key).string()) === null, 'the report gone with its lease');
      await new Promise((r) => setTimeout(r, 2000)); // the reporter's keep-alive learns it
      await removeNodeAuth(root, 'host-1');
      await expect(reporter.publish([])).rejects.toThrow(/permission denied/i);
      await addNodeAuth(root, 'host-1');
      await reporter.publish([]);
      expect(JSON.parse((await root.get(key).string())!)).toMatchObject({ node: 'host-1', differences: [], total: 0 });
    } finally {
      reporter.close();
    }
  }, 60_000);
});
