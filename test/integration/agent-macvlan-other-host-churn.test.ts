// Issue 10: an agent's work does not grow with what other hosts do. A MacvlanNet's controller
// status is one key for all nodes, rewritten for every container started on any host (its
// `used` count, that host's pre-claims refilled); every agent's view receives it. Found in a bug
// hunt: host-1's agent took each rewrite for a change of the MacvlanNet and ran its macvlan pass
// once per container started on host-2. Real etcd (TLS, auth), dockerds, controller and agents;
// host-1's agent runs as users run it, so its /metrics counts its passes alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Controller } from '../../pkg/controller/controller.js';
import { freePort } from '../../pkg/etcd/server.js';
import { labIpamPlugin } from '../../pkg/lab/services.js';
import { agentLabWithController, downWithController, eventually, obj, runContainer, type AgentLab } from './agent-harness.js';

const NET = 'churn';
let lab: AgentLab | undefined;
let controller: Controller | undefined;
let child: ChildProcess | undefined;
afterAll(async () => {
  try { await stopProgram(child); } finally { await downWithController(lab, controller); }
}, 180_000);

/** Ends host-1's agent: SIGTERM, SIGKILL if it has not exited 20 s later (a hung agent must not keep the lab from going down). */
async function stopProgram(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const timer = { id: undefined as NodeJS.Timeout | undefined };
  const late = new Promise<'late'>((r) => { timer.id = setTimeout(() => r('late'), 20_000); });
  const how = await Promise.race([exited, late]);
  clearTimeout(timer.id);
  if (how !== 'late') return;
  p.kill('SIGKILL');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
}

/** host-1's agent, the built program, with its own metrics address. */
async function startProgram(l: AgentLab): Promise<string> {
  const h = l.hosts[0];
  const addr = `127.0.0.1:${await freePort()}`;
  child = spawn(process.execPath, [resolve('dist/cmd/xnet-agent.js'), '--node', h.name, ...(await l.agentArgs(h.name)), '--netns', h.netns,
    '--docker-host', h.dockerHost, '--ipam-plugin', labIpamPlugin(h), '--state-dir', h.dir, '--metrics-addr', addr, '--resync', '3600'], { stdio: 'ignore' });
  return `http://${addr}/metrics`;
}

/** How many MacvlanNet passes (reconciles of mvn/* and its leftovers) the agent behind `url` ran. */
async function macvlanPasses(url: string): Promise<number> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
  const line = text.split('\n').find((l) => l.startsWith('xnet_reconcile_duration_seconds_count{') && l.includes('kind="MacvlanNet"'));
  return Number(line?.split(' ').at(-1) ?? 0);
}

const statusOf = async (l: AgentLab) => ((await l.store.get('MacvlanNet', NET))?.status ?? {}) as { used?: number; conditions?: Array<{ type: string; status: string }> };

describe('containers on another host', () => {
  it('wake no macvlan pass on this host', async () => {
    ({ lab, controller } = await agentLabWithController(2));
    const l = lab;
    const [h1, h2] = l.hosts;
    await l.store.applyAll([obj('MacvlanNet', NET, { subnet: '192.168.224.0/24', gateway: '192.168.224.1', ipRange: '192.168.224.128/25' })]);
    const metrics = await startProgram(l);
    await l.startAgent(h2);
    await eventually(async () => (await statusOf(l)).conditions?.find((c) => c.type === 'Ready')?.status === 'True', `MacvlanNet ${NET} Ready on both hosts`, 60_000);
    // settled: host-1's count stays put for 3 s (bounded)
    let last = -1;
    let since = Date.now();
    await eventually(async () => {
      const n = await macvlanPasses(metrics);
      if (n !== last) { last = n; since = Date.now(); }
      return n > 0 && Date.now() - since > 3000;
    }, 'host-1\'s macvlan passes to settle', 60_000);
    const before = last;
    for (let i = 0; i < 6; i++) await runContainer(h2, `c${i}`, ['--net', NET]);
    // the controller counted them: the status key every agent watches was rewritten for them
    await eventually(async () => (await statusOf(l)).used === 6, 'status.used 6', 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await macvlanPasses(metrics), 'host-1\'s macvlan passes while host-2 started 6 containers').toBe(before);
    // the count does move for this host's own container
    await runContainer(h1, 'own', ['--net', NET]);
    await eventually(async () => (await macvlanPasses(metrics)) > before, 'a pass on host-1 for its own container', 30_000);
  }, 300_000);
});
