// The IPAM plugin's journal lost: a real dockerd, the real controller and agent. Containers run
// on a MacvlanNet, the agent stops, its journal is cut short (as a power loss or a full disk
// leaves it), the agent starts again: the addresses Docker's containers hold are adopted from
// Docker before any new container gets one, so the next `docker run` gets another address.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeReport } from '../../pkg/dockeripam/report.js';
import { auditIpam } from '../../pkg/ipam/check.js';
import { listPrefix } from '../../pkg/runtime/kv.js';
import { Keys } from '../../pkg/store/keys.js';
import { clearDeadContainerd, startDockerd, stopDockerd } from '../../pkg/lab/index.js';
import { eventually, runContainer, useMacvlanIpamLab } from './agent-harness.js';
import { ipOf as ipOn, isRunning } from './docker-api.js';

const env = useMacvlanIpamLab(1, 'kept', { subnet: '192.168.211.0/24', gateway: '192.168.211.1', ipRange: '192.168.211.128/25' });

type JournalFile = { nets: Record<string, { assigned: Record<string, { container?: string; name?: string }> }> };

describe('xnet IPAM plugin after its journal is lost', () => {
  it('adopts the addresses running containers hold: a new container gets another one, and the journal and report hold them', async () => {
    const h = env.lab.hosts[0];
    const journal = join(h.dir, 'ipam-journal.json');
    const read = () => JSON.parse(readFileSync(journal, 'utf8')) as JournalFile;
    const names = ['old0', 'old1', 'old2'];
    for (const n of names) await runContainer(h, n, ['--net', 'kept']);
    const ipOf = (n: string) => ipOn(h, n);
    const held = await Promise.all(names.map(ipOf));
    await eventually(async () => held.every((ip, i) => read().nets.kept?.assigned[ip]?.name === names[i]) || undefined,
      'the agent learnt which container holds which address', 30_000);

    await env.lab.stopAgent(h);
    const text = readFileSync(journal, 'utf8');
    writeFileSync(journal, text.slice(0, Math.floor(text.length / 2))); // cut short
    await env.lab.startAgent(h);
    expect(existsSync(`${journal}.bad`)).toBe(true);

    await runContainer(h, 'late', ['--net', 'kept']);
    const late = await ipOf('late');
    expect(late).toMatch(/^192\.168\.211\./);
    expect(held).not.toContain(late);
    const assigned = read().nets.kept.assigned;
    for (const [i, ip] of held.entries()) expect(assigned[ip], ip).toMatchObject({ name: names[i] });
    await eventually(async () => {
      const v = (await env.lab.client.get(new Keys('/xnet').status('MacvlanNet', 'kept', { node: h.name })).json()) as { ipam?: unknown } | null;
      const ips = decodeReport(v?.ipam)?.assigned.map((a) => a.ip) ?? [];
      return [...held, late].every((ip) => ips.includes(ip)) || undefined;
    }, 'the report lists all four addresses', 30_000);
    const a = await eventually(async () => {
      const { kvs } = await listPrefix(env.lab.client, '/xnet/');
      const x = auditIpam(kvs, '/xnet');
      return [...x.leaks, ...x.duplicates, ...x.unclaimed].length === 0 ? x : undefined;
    }, 'ipam check clean', 60_000).catch(async () => {
      const { kvs } = await listPrefix(env.lab.client, '/xnet/');
      return auditIpam(kvs, '/xnet');
    });
    expect([...a.leaks, ...a.duplicates, ...a.unclaimed]).toEqual([]);
  }, 300_000);

  // deploy/systemd/xnet-agent.service: Before=docker.service, so at boot the agent starts while
  // Docker is not running yet, and at shutdown Docker stops first. The agent serves the plugin
  // without Docker's API; dockerd, starting next, restarts its restart-always containers, which
  // ask the plugin for addresses before dockerd's API answers.
  it('boot order: the agent starts with Docker down, then dockerd restarts its containers on their addresses', async () => {
    const h = env.lab.hosts[0];
    const journal = () => JSON.parse(readFileSync(join(h.dir, 'ipam-journal.json'), 'utf8')) as { nets: Record<string, { assigned: Record<string, { restarts?: boolean }> }> };
    const ipOf = (n: string) => ipOn(h, n);
    const names = ['boot0', 'boot1'];
    for (const n of names) await runContainer(h, n, ['--net', 'kept', '--restart', 'always']);
    const before = await Promise.all(names.map(ipOf));
    await eventually(async () => before.every((ip) => journal().nets.kept?.assigned[ip]?.restarts === true) || undefined,
      'the agent learnt their restart policy', 30_000);
    // shutdown in the units' order: Docker, then the agent
    await stopDockerd(h);
    await clearDeadContainerd(h);
    await env.lab.stopAgent(h);
    // boot: the agent first, with no dockerd at all
    await env.lab.startAgent(h);
    await startDockerd(h, { timeoutMs: 240_000 });
    const after = await eventually(async () => {
      const ips = await Promise.all(names.map((n) => ipOf(n).catch(() => '')));
      return ips.every((ip, i) => ip === before[i]) ? ips : undefined;
    }, 'the restart-always containers back on their own addresses', 120_000);
    expect(after).toEqual(before);
    for (const n of names) expect(await isRunning(h, n), n).toBe(true);
  }, 600_000);
});
