// A deleting ContainerNic the agent fails to take out of its container (reconcilers/nic-removal.ts):
// this node's report says why, Ready False with the failure's reason, keeping the fields it
// reported before; only a report already there is rewritten (a new one would make the
// controller hold the address); a failed status write is logged, and the removal's own error
// is what the reconcile throws (retried with backoff). The removal that then succeeds removes
// the report as before. Integration: test/integration/nic-remove-failed.test.ts.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type ContainerNic } from '../../pkg/api/index.js';
import type { AgentContext, Ready } from '../../pkg/agent/context.js';
import { MacWaits } from '../../pkg/agent/mac-wait.js';
import { reconcileNic } from '../../pkg/agent/reconcilers/nics.js';
import { DockerError } from '../../pkg/docker/types.js';

const nic: ContainerNic = {
  apiVersion: API_VERSION, kind: 'ContainerNic',
  metadata: { name: 'web-mv', uid: 'u1', generation: 1, deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['xnet.io/address-in-use'] },
  spec: { node: 'host-1', container: 'web', ifName: 'mv0', network: { macvlanNet: 'mv' } },
  status: { ip: '192.168.61.8', containerId: 'id-web' },
} as unknown as ContainerNic;

interface Opts { reported?: boolean; writeFails?: boolean; docker?: 'down' | 'up' }

function agent(o: Opts) {
  const writes: Array<{ fields: Record<string, unknown>; ready: Ready }> = [];
  const removed: string[] = [];
  const warnings: string[] = [];
  const last = { containerId: 'id-web', mac: '02:42:c0:a8:3d:08', objectUid: 'u1', conditions: [{ type: 'Ready', status: 'True' }], bogus: 7 };
  const ctx = {
    node: 'host-1', removedNics: new Map(), macWaits: new MacWaits(),
    log: { info: () => undefined, warn: (m: string) => { warnings.push(m); }, debug: () => undefined },
    caches: { nics: { get: () => nic, list: () => [nic] } },
    unreadable: () => [],
    unwatchNic: async () => undefined,
    status: {
      reported: async () => o.reported ?? true,
      lastReported: () => last,
      write: async (_k: string, _o: unknown, fields: Record<string, unknown>, ready: Ready) => {
        if (o.writeFails) throw new Error('etcd unavailable');
        writes.push({ fields, ready });
      },
      remove: async (_k: string, name: string) => { removed.push(name); },
    },
    dp: {
      docker: {
        inspectContainer: async () => {
          if (o.docker !== 'up') throw new DockerError('DockerUnavailable', 'inspect container id-web: Docker daemon not reachable (ECONNREFUSED); is dockerd running?');
          return undefined; // the container is gone: nothing left to take out
        },
      },
      hostState: async () => ({ links: [], addrs: [], routes: [] }),
      execute: async () => undefined,
    },
  } as unknown as AgentContext;
  return { ctx, writes, removed, warnings };
}

describe('a deleting NIC its agent cannot take out of its container', () => {
  it('reports Ready False with the failure\'s reason, keeping its reported fields, and throws the failure (retried)', async () => {
    const a = agent({});
    await expect(reconcileNic(a.ctx, 'web-mv')).rejects.toMatchObject({ reason: 'DockerUnavailable' });
    expect(a.writes).toEqual([{
      fields: { containerId: 'id-web', mac: '02:42:c0:a8:3d:08' },
      ready: {
        status: 'False', reason: 'DockerUnavailable',
        message: 'could not remove mv0 from container web: inspect container id-web: Docker daemon not reachable (ECONNREFUSED); is dockerd running?; tried again with backoff; the address is kept until it is removed',
      },
    }]);
    expect(a.removed).toEqual([]);
  });

  it('writes no report where there was none: the controller does not wait for this node then', async () => {
    const a = agent({ reported: false });
    await expect(reconcileNic(a.ctx, 'web-mv')).rejects.toMatchObject({ reason: 'DockerUnavailable' });
    expect(a.writes).toEqual([]);
  });

  it('a failed status write is logged; the removal\'s error is what is thrown', async () => {
    const a = agent({ writeFails: true });
    await expect(reconcileNic(a.ctx, 'web-mv')).rejects.toBeInstanceOf(DockerError);
    expect(a.warnings).toEqual(['reporting that a deleted NIC could not be removed failed']);
  });

  it('the removal that succeeds removes the report, as before', async () => {
    const a = agent({ docker: 'up' });
    await reconcileNic(a.ctx, 'web-mv');
    expect(a.writes).toEqual([]);
    expect(a.removed).toEqual(['web-mv']);
  });
});
