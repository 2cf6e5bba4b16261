// `docker run` latency on a MacvlanNet whose addresses come from xnet's IPAM plugin
// (dockerIPAM: xnet) next to Docker's built-in IPAM on the node's block (dockerIPAM: blocks),
// on the same lab host, same dockerd, same image, in the same run. Phases alternate
// (blocks, xnet, blocks, xnet...) so that a busy machine slows both alike; each phase is a
// fresh MacvlanNet made Ready by the real controller and agent, then SAMPLES containers started
// one after another (each `docker run -d` timed from spawn to exit), then removed.
//
//   npm run bench -- docker-ipam     (root; builds a one-host lab in namespaces, removes it after)
//   DOCKER_IPAM_SAMPLES=20 DOCKER_IPAM_ROUNDS=2 node dist/bench/docker-ipam.js
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import type { Store } from '../pkg/store/types.js';
import { benchLabDir, benchLabHost } from './lib/lab-host.js';
import { destroyLab, hostDocker, BUSYBOX_IMAGE, type LabHost } from '../pkg/lab/index.js';
import { labIpamPlugin } from '../pkg/lab/services.js';
import { Agent } from '../pkg/agent/agent.js';
import { Controller } from '../pkg/controller/controller.js';
import { isReady, type MacvlanNet } from '../pkg/api/index.js';
import { benchEtcd, obj, quietLog, sleep } from './lib/common.js';

const SAMPLES = Number(process.env.DOCKER_IPAM_SAMPLES ?? 20);
const ROUNDS = Number(process.env.DOCKER_IPAM_ROUNDS ?? 2);
type Mode = 'blocks' | 'xnet';

const docker = async (h: LabHost, args: string[]) => (await hostDocker(h, args, { check: true, timeoutMs: 120_000 })).stdout.trim();

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** One phase: a fresh MacvlanNet in `mode`, SAMPLES timed `docker run`s on it, all removed after. */
async function phase(store: Store, h: LabHost, mode: Mode, i: number): Promise<number[]> {
  const name = `bench-${mode}-${i}`;
  // blockPrefix 26: the built-in IPAM's block holds every sample (a /28 would stop at 13).
  await store.applyAll([obj('MacvlanNet', name, { subnet: '192.168.220.0/24', gateway: '192.168.220.1', ipRange: '192.168.220.0/25', blockPrefix: 26, dockerIPAM: mode })]);
  await until(`MacvlanNet ${name} Ready`, async () => isReady((await store.get('MacvlanNet', name)) as MacvlanNet) || undefined);
  const driver = await docker(h, ['network', 'inspect', '-f', '{{.IPAM.Driver}}', name]);
  if ((mode === 'xnet') !== driver.startsWith('xnet')) throw new Error(`network ${name} has IPAM driver ${driver}, not ${mode}'s`);
  const times: number[] = [];
  for (let k = 0; k < SAMPLES; k++) {
    const t0 = performance.now();
    await docker(h, ['run', '-d', '--name', `${name}-${k}`, '--net', name, BUSYBOX_IMAGE, 'sleep', '100000']);
    times.push(performance.now() - t0);
  }
  const ips = (await docker(h, ['network', 'inspect', '-f', '{{range .Containers}}{{.IPv4Address}} {{end}}', name])).split(' ').filter(Boolean);
  if (new Set(ips).size !== SAMPLES) throw new Error(`${name}: ${SAMPLES} containers but ${new Set(ips).size} distinct addresses`);
  await docker(h, ['rm', '-f', ...Array.from({ length: SAMPLES }, (_, k) => `${name}-${k}`)]);
  await store.delete('MacvlanNet', name);
  // Docker allows one macvlan network per parent: the next phase waits for this one to go.
  await until(`Docker network ${name} removed`, async () => (await hostDocker(h, ['network', 'inspect', name])).exitCode !== 0 || undefined);
  return times;
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

function report(res: Record<Mode, number[]>): void {
  const rows = (['blocks', 'xnet'] as Mode[]).map((m) => {
    const t = res[m];
    return [m === 'blocks' ? 'blocks (Docker built-in IPAM)' : 'xnet (IPAM plugin)', String(t.length), fmt(pct(t, 50)), fmt(pct(t, 90)), fmt(pct(t, 99)),
      m === 'blocks' ? '1.00x' : `${(pct(t, 50) / pct(res.blocks, 50)).toFixed(2)}x`];
  });
  const head = ['docker run -d', 'runs', 'p50', 'p90', 'p99', 'p50 / built-in'];
  const w = head.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('  ');
  process.stdout.write(`\n${line(head)}\n${rows.map(line).join('\n')}\n`);
}

async function main(): Promise<void> {
  const { id, dir } = benchLabDir('db');
  const etcd = await benchEtcd('docker-ipam');
  const store = createEtcdStore(etcd.client, '/xnet');
  const controller = new Controller({ client: etcd.client, log: quietLog('controller'), leaseTtlSeconds: 5 });
  let agent: Agent | undefined;
  try {
    const h = await benchLabHost(id, dir);
    await controller.start();
    agent = new Agent({ node: h.name, store, etcd: etcd.client, netns: h.netns, dockerHost: h.dockerHost, ipamPlugin: labIpamPlugin(h), stateDir: h.dir, log: quietLog('agent', { node: h.name }) });
    await agent.start();
    await agent.firstPass;
    process.stdout.write(`docker-ipam: ${ROUNDS} rounds of ${SAMPLES} sequential docker runs per IPAM, phases alternating, one lab host\n`);
    const res: Record<Mode, number[]> = { blocks: [], xnet: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const mode of ['blocks', 'xnet'] as Mode[]) {
        res[mode].push(...await phase(store, h, mode, i));
        process.stdout.write(`  round ${i + 1} ${mode}: p50 ${fmt(pct(res[mode].slice(-SAMPLES), 50))}\n`);
      }
    }
    report(res);
    process.stdout.write('\nEach time runs from spawning `docker run -d` (CLI, dockerd, IPAM, macvlan, container start) to its exit.\n');
  } finally {
    await agent?.stop().catch(() => undefined);
    await controller.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    await destroyLab(dir).catch((e) => process.stderr.write(`lab down: ${(e as Error).message}\n`));
    await etcd.stop();
  }
}

await main();
process.exit(0);
