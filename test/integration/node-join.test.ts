// Issue 9 part 2 and issue 10 part 3 (liveness): a host joins by its agent's report alone,
// under etcd with TLS and auth. The agent runs with its node's certificate (node-<name>), which
// cannot write any object, so the controller (its own identity) makes the Node; liveness is
// the agent's etcd lease, so a steady-state agent writes nothing and a killed one is NodeLost
// within the lease's TTL. No dockerd: joining, subnets and liveness need none.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Watcher } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../pkg/api/index.js';
import { Controller } from '../../pkg/controller/controller.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { Keys } from '../../pkg/store/keys.js';
import { nodeViewPrefixes } from '../../pkg/store/node-view.js';
import { createLogger } from '../../pkg/log.js';
import { agentLab, eventually, obj, readyCondition, downWithController, type AgentLab } from './agent-harness.js';

const AGENT_BIN = resolve('dist/cmd/xnet-agent.js');
/** the xnet-agent command's heartbeat interval and lease TTL (its defaults) */
const HEARTBEAT_MS = 5000;
const LEASE_TTL_S = 10;
const denied = /permission denied|PERMISSION_DENIED/i;
const keys = new Keys('/xnet');

let lab: AgentLab;
let controller: Controller | undefined;
let child: ChildProcess | undefined;
let childLog = '';

beforeAll(async () => {
  if (!existsSync(AGENT_BIN)) throw new Error(`${AGENT_BIN} is missing: run "npx tsc -p tsconfig.json" first`);
  lab = await agentLab(2, { docker: false, nodes: 'controller' });
  const log = createLogger('controller');
  log.level = process.env.XNET_LOG_LEVEL ?? 'warn';
  controller = new Controller({ client: lab.controllerClient(), log, leaseTtlSeconds: 5 });
  await controller.start();
  await lab.store.create(obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' }));
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await downWithController(lab, controller);
}, 120_000);

/** host-2's agent as users run it: the built command, with host-2's certificate. */
async function startAgentCommand(): Promise<ChildProcess> {
  const h = lab.hosts[1];
  const p = spawn(process.execPath, [AGENT_BIN, '--node', h.name, ...(await lab.agentArgs(h.name)), '--netns', h.netns,
    '--docker-host', h.dockerHost, '--no-ipam-plugin', '--state-dir', h.dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  p.stderr!.on('data', (d) => { childLog += String(d); });
  return p;
}

const nodeReady = async (name: string) => (await readyCondition(lab.store, 'Node', name))?.status;

describe('joining without writing objects, liveness on the lease (TLS + auth etcd)', () => {
  it('a node certificate cannot create or edit its Node, yet the host joins and gets its HostSubnet', async () => {
    const [h1] = lab.hosts;
    const nodeStore = createEtcdStore(lab.etcd.auth!.clientAs(await lab.admitNode(h1.name)), '/xnet');
    await expect(nodeStore.create(obj('Node', h1.name, { address: '198.18.0.99' }))).rejects.toThrow(denied);
    expect(await lab.store.get('Node', h1.name), 'no Node before the agent runs').toBeUndefined();

    // no dockerd here: the agent's Docker warnings are expected and not shown
    const agentLog = createLogger('agent', { node: h1.name });
    agentLog.level = process.env.XNET_LOG_LEVEL ?? 'error';
    await lab.startAgent(h1, { log: agentLog });
    const node = await eventually(async () => (await nodeReady(h1.name)) === 'True' && lab.store.get('Node', h1.name), 'Node host-1 made and Ready', 20_000) as Node;
    // made by the controller: an empty spec and no labels, both the admin's
    expect(node.spec).toEqual({});
    expect(node.metadata.labels).toBeUndefined();
    expect(node.status?.address).toBe(h1.address);
    const hs = await eventually(async () => {
      const o = await lab.store.get('HostSubnet', `default-${h1.name}`);
      return (o?.status as { subnet?: string } | undefined)?.subnet ? o : undefined;
    }, 'HostSubnet default-host-1 allocated', 20_000);
    expect((hs.status as { subnet: string }).subnet).toMatch(/^10\.76\.\d+\.0\/24$/);

    // now that it exists: still no edit of its labels or spec, and no raw write of the object key
    await expect(nodeStore.update({ ...node, metadata: { ...node.metadata, labels: { role: 'mine' } } })).rejects.toThrow(denied);
    await expect(lab.etcd.auth!.clientAs(await lab.admitNode(h1.name)).put(keys.object('Node', h1.name)).value('{}')).rejects.toThrow(denied);
    expect((await lab.store.get('Node', h1.name))?.metadata).toMatchObject({ uid: node.metadata.uid, generation: 1 });
    expect((await lab.store.get('Node', h1.name))?.metadata.labels).toBeUndefined();
  });

  it('a steady-state agent writes nothing other agents watch, over three heartbeat intervals', async () => {
    const [h1, h2] = lab.hosts;
    child = await startAgentCommand();
    await eventually(async () => (await nodeReady(h2.name)) === 'True', 'host-2 (xnet-agent command) joined and Ready', 30_000);
    await eventually(async () => (await lab.store.get('HostSubnet', `default-${h2.name}`))?.status, 'HostSubnet default-host-2', 20_000);
    // Every prefix any of the two agents watches (store/node-view.ts): an event there reaches an agent.
    const prefixes = [...new Set(lab.hosts.flatMap((h) => nodeViewPrefixes(keys, h.name)))];
    const seen: string[] = [];
    const values: string[] = [];
    const watchers: Watcher[] = await Promise.all(prefixes.map((p) => lab.client.watch().prefix(p).create()));
    for (const w of watchers) {
      w.on('put', (kv) => { seen.push(`put ${kv.key.toString()}`); values.push(`${kv.key.toString()} = ${kv.value.toString()}`); });
      w.on('delete', (kv) => seen.push(`delete ${kv.key.toString()}`));
    }
    try {
      // joining is over when nothing has been written there for a while (bounded)
      let quietSince = Date.now();
      let count = 0;
      await eventually(async () => {
        if (seen.length !== count) { count = seen.length; quietSince = Date.now(); }
        return Date.now() - quietSince > 6000;
      }, 'join writes to settle', 60_000);
      const before = seen.length;
      // host-1's in-process agent and host-2's command both heartbeat every 5 s (lease TTL 10 s)
      await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS + 500));
      expect(seen.slice(before), `etcd events in 3 heartbeat intervals of a steady state; last values: ${values.slice(-4).join('\n')}`).toEqual([]);
      expect(await nodeReady(h1.name)).toBe('True');
      expect(await nodeReady(h2.name)).toBe('True');
      // the watch sees what is written: an admin's label is one event
      const n = (await lab.store.get('Node', h1.name)) as Node;
      await lab.store.update({ ...n, metadata: { ...n.metadata, labels: { zone: 'a' } } });
      await eventually(async () => seen.slice(before).some((e) => e === `put ${keys.object('Node', h1.name)}`), 'the label\'s watch event', 5000);
    } finally {
      for (const w of watchers) await w.cancel();
    }
  }, 90_000);

  it('a killed agent (SIGKILL) turns its Node NodeLost within the lease TTL; its subnet stays', async () => {
    const [, h2] = lab.hosts;
    const reportKey = keys.status('Node', h2.name, { node: h2.name });
    expect((await lab.client.get(reportKey).exec()).kvs[0]?.lease, 'host-2\'s report is on its lease').toMatch(/^[1-9]\d*$/);
    expect(await nodeReady(h2.name)).toBe('True');
    const exited = new Promise((r) => child!.once('exit', r));
    const t0 = Date.now();
    child!.kill('SIGKILL');
    await exited;
    const lost = await eventually(async () => {
      const c = await readyCondition(lab.store, 'Node', h2.name);
      return c?.status === 'False' ? c : undefined;
    }, 'Node host-2 not Ready', (LEASE_TTL_S + 10) * 1000);
    const ms = Date.now() - t0;
    expect(lost.reason).toBe('NodeLost');
    // Ready turned False now, not when the controller first wrote the condition it keeps
    // for this moment (at the join): describe's AGE and -o json must say so
    await eventually(async () => {
      const c = await readyCondition(lab.store, 'Node', h2.name);
      return c?.lastTransitionTime && Date.parse(c.lastTransitionTime) >= t0 ? c : undefined;
    }, 'NodeLost\'s lastTransitionTime after the kill', 10_000);
    // etcd ends the lease at most one TTL after the last keep-alive (sent every TTL/3); its
    // expiry check, the revoke's commit, the controller's write and the polls add a margin that
    // a loaded machine stretches (controller-ha.test.ts allows the same)
    expect(ms, `Node not Ready ${ms} ms after SIGKILL`).toBeLessThanOrEqual(LEASE_TTL_S * 1000 + 4000);
    expect(await lab.client.get(reportKey).string()).toBeNull();
    expect((await lab.store.get('HostSubnet', `default-${h2.name}`))?.status).toHaveProperty('subnet');
  }, 60_000);
});
