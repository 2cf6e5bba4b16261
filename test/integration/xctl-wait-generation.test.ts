// `xctl apply` an edit, then `xctl wait --for condition=Ready`: the wait is for the edit. A
// Ready the agent computed from the spec before the edit (its observedGeneration below the
// object's generation: the agent stopped, or not at it yet) is not met, as in kubectl's wait;
// the agent's report of the new generation is. Against a real etcd, in-process through runXctl;
// the agent's reports are written as the agent writes them (its node's status key).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/etcd-store.js';
import { runXctl } from '../../pkg/cli/program.js';

let etcd: TestEtcd;
let store: EtcdStore;

const V = 'apiVersion: xnet.io/v1alpha1';
const CN = `${V}\nkind: ClusterNetwork\nmetadata: {name: default}\nspec: {cidr: 10.76.0.0/16, hostPrefix: 24, dockerNetwork: net1}\n`;
const nicDoc = (ifName: string) => `${V}\nkind: ContainerNic\nmetadata: {name: web-net1}\nspec: {node: host-1, container: web, ifName: ${ifName}, network: {clusterNetwork: default}}\n`;

interface Run { code: number; out: string; err: string }
async function xctl(args: string[], stdin = ''): Promise<Run> {
  const r = { code: -1, out: '', err: '' };
  r.code = await runXctl(args, {
    out: (t) => { r.out += t; }, err: (t) => { r.err += t; },
    stdin: async () => stdin, env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') },
  });
  return r;
}

/** host-1's agent reports the NIC Ready True, computed from `generation`. */
async function agentReportsReady(generation: number, ifName: string): Promise<void> {
  const nic = await store.get('ContainerNic', 'web-net1');
  await store.writeStatus('ContainerNic', 'web-net1', { node: 'host-1' }, {
    objectUid: nic!.metadata.uid, observedGeneration: generation,
    conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: `${ifName} is in container web`, lastTransitionTime: new Date().toISOString(), observedGeneration: generation }],
  });
}

beforeAll(async () => {
  etcd = await startEtcd();
  store = createEtcdStore(etcd.client());
  expect((await xctl(['apply', '-f', '-'], `${CN}---\n${nicDoc('net1')}`)).code).toBe(0);
  await agentReportsReady(1, 'net1');
});
afterAll(async () => { await etcd?.stop(); });

describe('wait after an edit', () => {
  it('is met by the Ready of the generation the object is at', async () => {
    const r = await xctl(['wait', 'nic', 'web-net1', '--timeout', '5s']);
    expect(r).toMatchObject({ code: 0, out: 'containernic/web-net1 condition met (Ready=True)\n' });
  });

  it('is not met by the Ready from before the edit, and says why; met once the agent reports the edit', async () => {
    expect((await xctl(['apply', '-f', '-'], nicDoc('net2'))).out).toContain('configured');
    expect((await store.get('ContainerNic', 'web-net1'))!.metadata.generation).toBe(2);
    const stale = await xctl(['wait', 'nic', 'web-net1', '--timeout', '1s']);
    expect(stale.code).toBe(1);
    expect(stale.err).toContain('Ready=True, reason Converged (of generation 1; the object is at generation 2, not acted on yet)');

    const waiting = xctl(['wait', 'nic', 'web-net1', '--timeout', '20s']);
    await new Promise((r) => setTimeout(r, 500));
    await agentReportsReady(2, 'net2');
    expect(await waiting).toMatchObject({ code: 0, out: 'containernic/web-net1 condition met (Ready=True)\n' });
  });
});
