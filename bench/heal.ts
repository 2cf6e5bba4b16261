// How fast the agent heals each kind of drift, driven by events (kernel notifications,
// Docker events, etcd watches), next to the same agent relying on its periodic resync only.
// Prints p50/p99 per drift kind and the ratio to the periodic-only baseline. Every break is
// checked (pkg/lab/breaks.ts): a break that failed would otherwise be timed as a near-zero heal.
//
//   npm run bench -- heal          (root; builds a one-host lab in namespaces, removes it after)
//   HEAL_SAMPLES=30 HEAL_BASELINE_INTERVAL_MS=5000 node dist/bench/heal.js
import { createEtcdStore } from '../pkg/store/etcd-store.js';
import { benchLabDir, benchLabHost } from './lib/lab-host.js';
import { destroyLab, hostDocker, hostExec, BUSYBOX_IMAGE, type LabHost } from '../pkg/lab/index.js';
import { breakVerified, type Exec } from '../pkg/lab/breaks.js';
import { run as runCmd } from '../pkg/lab/run.js';
import { Agent } from '../pkg/agent/agent.js';
import { shimName, vethHostName } from '../pkg/agent/planner/names.js';
import { benchEtcd, obj, quietLog, sleep } from './lib/common.js';

const SAMPLES = Number(process.env.HEAL_SAMPLES ?? 20);
const BASELINE_SAMPLES = Number(process.env.HEAL_BASELINE_SAMPLES ?? 6);
const BASELINE_INTERVAL = Number(process.env.HEAL_BASELINE_INTERVAL_MS ?? 5000);

const sh = async (h: LabHost, argv: string[]) => (await hostExec(h, argv)).stdout;
const dockerCmd = async (h: LabHost, args: string[]) => (await hostDocker(h, args, { check: true })).stdout.trim();

interface Drift {
  name: string;
  /** breaks the state; resolves when the break is done */
  breakIt(): Promise<void>;
  /** true once healed */
  healed(): Promise<boolean>;
}

function drifts(h: LabHost): Drift[] {
  const containerPid = async () => Number(await dockerCmd(h, ['inspect', '-f', '{{.State.Pid}}', 'test']));
  const onHost: Exec = (argv) => hostExec(h, argv, { timeoutMs: 10_000 });
  const inContainer: Exec = async (argv) => {
    const pid = await containerPid();
    if (!pid) throw new Error('container test is not running');
    return runCmd(['nsenter', '-t', String(pid), '-n', ...argv], { reject: false, timeoutMs: 10_000 });
  };
  const nicOk = async () => {
    const r = await inContainer(['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1']).catch(() => undefined);
    return !!r?.stdout.includes('10.76.1.84/24');
  };
  const veth = vethHostName('test-eth1');
  return [
    {
      name: 'route deleted by hand',
      breakIt: () => breakVerified(onHost, ['ip', 'route', 'del', '10.76.2.0/24'], { argv: ['ip', 'route', 'show'], gone: '10.76.2.0/24' }),
      healed: async () => (await sh(h, ['ip', 'route', 'show', '10.76.2.0/24'])).includes('via 198.18.0.12'),
    },
    {
      name: 'NIC host end deleted',
      breakIt: () => breakVerified(onHost, ['ip', 'link', 'del', veth], { argv: ['ip', '-o', 'link', 'show'], gone: `${veth}@` }),
      healed: nicOk,
    },
    {
      name: 'shim address deleted',
      breakIt: () => breakVerified(onHost, ['ip', 'addr', 'del', '192.168.200.250/32', 'dev', shimName('mv')], {
        argv: ['ip', '-o', '-4', 'addr', 'show', 'dev', shimName('mv')], gone: '192.168.200.250/32',
      }),
      healed: async () => (await sh(h, ['ip', '-o', '-4', 'addr', 'show', 'dev', shimName('mv')])).includes('192.168.200.250/32'),
    },
    {
      name: 'NIC address deleted in container',
      breakIt: () => breakVerified(inContainer, ['ip', 'addr', 'del', '10.76.1.84/24', 'dev', 'eth1'], { argv: ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1'], gone: '10.76.1.84/24' }),
      healed: nicOk,
    },
    {
      name: 'NAT exemption deleted',
      breakIt: () => breakVerified(onHost, ['iptables', '-t', 'nat', '-D', 'POSTROUTING', '-j', 'XNET-POSTROUTING'], {
        argv: ['iptables', '-t', 'nat', '-S', 'POSTROUTING'], gone: '-j XNET-POSTROUTING',
      }),
      healed: async () => (await sh(h, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'])).split('\n')[1]?.includes('XNET-POSTROUTING') ?? false,
    },
    {
      name: 'container restarted (NIC back)',
      breakIt: async () => {
        const before = await dockerCmd(h, ['inspect', '-f', '{{.State.StartedAt}}', 'test']);
        await dockerCmd(h, ['restart', '-t', '0', 'test']);
        if ((await dockerCmd(h, ['inspect', '-f', '{{.State.StartedAt}}', 'test'])) === before) throw new Error('docker restart did not restart the container');
      },
      healed: nicOk,
    },
  ];
}

/** `spreadMs`: breaks land at a uniformly random moment of that window, so a periodic check's
 * phase does not bias the figures (expected wait = half its interval). */
async function measure(d: Drift, n: number, timeoutMs: number, spreadMs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    // whole before each break (the previous heal may still be settling), within a bound
    const ready = performance.now();
    while (!(await d.healed())) {
      if (performance.now() - ready > timeoutMs) throw new Error(`${d.name}: not whole before sample ${i + 1} within ${timeoutMs} ms`);
      await sleep(50);
    }
    await sleep(100 + Math.random() * spreadMs);
    await d.breakIt();
    const t0 = performance.now();
    for (;;) {
      if (await d.healed()) break;
      if (performance.now() - t0 > timeoutMs) throw new Error(`${d.name}: not healed within ${timeoutMs} ms`);
      await sleep(5);
    }
    out.push(performance.now() - t0);
  }
  return out;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

async function main(): Promise<void> {
  const { id, dir } = benchLabDir('hb');
  const etcd = await benchEtcd('heal');
  const { client } = etcd;
  const store = createEtcdStore(client, '/xnet');
  const log = quietLog('agent', { node: 'host-1' });
  let agent: Agent | undefined;
  try {
    const h = await benchLabHost(id, dir);
    await store.create(obj('ClusterNetwork', 'default', { cidr: '10.76.0.0/16', hostPrefix: 24, dockerNetwork: 'net1' }));
    // no controller runs here: the Nodes are made as it would make them (an agent writes none)
    await store.create(obj('Node', 'host-1', {}));
    await store.create(obj('Node', 'host-2', { address: '198.18.0.12' }));
    await store.create(obj('HostSubnet', 'default-host-1', { node: 'host-1', clusterNetwork: 'default', subnet: '10.76.1.0/24', bridge: 'br01', dockerRange: '10.76.1.128/25' }));
    await store.create(obj('HostSubnet', 'default-host-2', { node: 'host-2', clusterNetwork: 'default', subnet: '10.76.2.0/24', bridge: 'br02' }));
    await store.create(obj('MacvlanNet', 'mv', { subnet: '192.168.200.0/24' }));
    await store.writeStatus('MacvlanNet', 'mv', { controller: true }, { nodes: [{ name: 'host-1', dockerRange: '192.168.200.128/28', shimAddress: '192.168.200.250' }] });
    await store.create(obj('ContainerNic', 'test-eth1', { node: 'host-1', container: 'test', ifName: 'eth1', network: { clusterNetwork: 'default' } }));
    await store.writeStatus('ContainerNic', 'test-eth1', { controller: true }, { ip: '10.76.1.84', prefixLength: 24, gateway: '10.76.1.1', hostSubnet: 'default-host-1' });
    await dockerCmd(h, ['run', '-d', '--name', 'test', BUSYBOX_IMAGE, 'sleep', '1000000']);

    const kinds = drifts(h);
    const run = async (label: string, opts: ConstructorParameters<typeof Agent>[0], n: number, timeoutMs: number, spreadMs: number) => {
      agent = new Agent(opts);
      await agent.start();
      await agent.firstPass;
      const res: Record<string, number[]> = {};
      for (const d of kinds) res[d.name] = await measure(d, n, timeoutMs, spreadMs);
      await agent.stop();
      agent = undefined;
      process.stdout.write(`  ${label}: done\n`);
      return res;
    };
    // stateDir: the lab host's own (the record of parents it changed), never /var/lib/xnet/host-1
    const base = { node: 'host-1', store, etcd: client, netns: h.netns, dockerHost: h.dockerHost, stateDir: h.dir, log };
    process.stdout.write(`heal: ${SAMPLES} samples per drift (event-driven, periodic resync 1 h away), ${BASELINE_SAMPLES} for the periodic-only baseline (interval ${BASELINE_INTERVAL} ms)\n`);
    // The resync is pushed out of reach so that every event-driven figure comes from events.
    const ev = await run('event-driven', { ...base, resyncMs: 3_600_000 }, SAMPLES, 20_000, 200);
    const per = await run('periodic-only', { ...base, resyncMs: BASELINE_INTERVAL, events: { docker: false, kernel: false } }, BASELINE_SAMPLES, BASELINE_INTERVAL * 3 + 10_000, BASELINE_INTERVAL);

    const rows = kinds.map((d) => {
      const e = ev[d.name];
      const p = per[d.name];
      return [d.name, fmt(pct(e, 50)), fmt(pct(e, 99)), fmt(pct(p, 50)), fmt(pct(p, 99)), `${(pct(p, 50) / pct(e, 50)).toFixed(1)}x`];
    });
    const head = ['drift', 'events p50', 'events p99', `periodic(${BASELINE_INTERVAL / 1000}s) p50`, 'periodic p99', 'p50 speed-up'];
    const w = head.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i])).join('  ');
    process.stdout.write(`\n${line(head)}\n${rows.map(line).join('\n')}\n`);
    process.stdout.write('\nTimes run from the end of the break to the first poll (5 ms) that sees the state whole again.\n');
  } finally {
    await agent?.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    await destroyLab(dir).catch((e) => process.stderr.write(`lab down: ${(e as Error).message}\n`));
    await etcd.stop();
  }
}

await main();
process.exit(0);
