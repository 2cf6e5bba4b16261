// `xctl get -w`, `get events -w` and `xctl wait` whose connection to etcd is cut and restored
// (test/harness/tcp-proxy.ts) within the watch's give-up time: the built program, run as a user
// runs it, carries on once etcd is reachable again, from the last revision it delivered, and
// prints each change once. After a compaction while it was cut off it relists and reports what
// changed in between (`wait` judges its condition again). docs/xctl.md, "Watching".
//
// A wait that met its goal ends by itself, exit 0, without xctl having to end a process its
// command left held (pkg/cli/held-exit.ts: with XNET_LOG_LEVEL=debug it says so on stderr): after
// the compaction's relist, a watch made once the cache was closed held it 2 s past its line.
//
// Each cut lasts until xctl has tried to reach etcd through the proxy and been refused (the
// proxy counts it): its watch has broken and a first attempt to restart it has failed. Its
// watch is known to be made when etcd counts one more watcher (etcd's own metric).
//
// The watching xctl is the built program; the other user's changes (apply, label, delete) run
// xctl's code in the test's process (xctlInTest): their process is not what a case checks.
import { execa } from 'execa';
import { describe, expect, it, onTestFinished } from 'vitest';
import { XCTL_BIN, useBuiltXctl } from './built-xctl.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import { EventRecorder } from '../../pkg/events/recorder.js';
import { eventually, pollUntil } from './helpers.js';
import { HELD_EXIT_LINE } from '../../pkg/cli/held-exit.js';
import { xctlInTest } from '../harness/xctl-in-process.js';

const built = useBuiltXctl();

/** How long a bounded poll for xctl's output or exit waits before the test fails. */
const POLL_MS = 30_000;

const V = 'apiVersion: xnet.io/v1alpha1';
const cnYaml = (name: string, cidr: string, label: string) =>
  `${V}\nkind: ClusterNetwork\nmetadata:\n  name: ${name}\n  labels: {t: ${label}}\nspec:\n  cidr: ${cidr}\n  hostPrefix: 24\n`;

/** xctl straight to etcd (not through the proxy): the other user making changes. */
async function xctl(args: string[], input = ''): Promise<void> {
  const r = await xctlInTest(args, { input, env: { XCTL_ENDPOINTS: built.etcd.endpoints.join(',') } });
  expect(r.exitCode, `xctl ${args.join(' ')}: ${r.stderr}`).toBe(0);
}

/** Watchers etcd has now (every watch of this file's etcd is an xctl's through its proxy). */
async function etcdWatchers(): Promise<number> {
  const text = await (await fetch(`${built.etcd.endpoints[0]}/metrics`)).text();
  const m = /^etcd_debugging_mvcc_watcher_total (\d+)$/m.exec(text);
  if (!m) throw new Error('etcd has no etcd_debugging_mvcc_watcher_total metric');
  return Number(m[1]);
}

interface Running { out(): string; lines(): string[]; err(): string; exit(): number | undefined }

/** A proxy in front of the file's etcd; xctl commands started through it; all ended with the test. */
/** The `wait` ends by itself, exit 0, saying ClusterNetwork `name`'s condition (forReady) was met. */
async function expectConditionMet(w: Running, name: string): Promise<void> {
  expect(await pollUntil(() => w.exit() !== undefined, POLL_MS), `wait ended; stderr: ${w.err()}`).toBe(true);
  expect(w.exit(), w.err()).toBe(0);
  expect(w.out()).toBe(`clusternetwork/${name} condition met ({.metadata.labels.ready}=yes)\n`);
  expect(w.err(), 'the process ended by itself once the wait was over').not.toContain(HELD_EXIT_LINE);
}

async function throughProxy(): Promise<{ proxy: TcpProxy; start(args: string[]): Promise<Running>; cutUntilRefused(): Promise<void> }> {
  const proxy = await startTcpProxy(built.etcd.endpoints[0]);
  const kills: Array<() => void> = [];
  onTestFinished(async () => {
    for (const kill of kills) kill();
    await proxy.close();
    await eventually(async () => (await etcdWatchers()) === 0, 'the watches of the test gone from etcd');
  });
  return {
    proxy,
    async start(args) {
      const before = await etcdWatchers();
      const p = execa('node', [XCTL_BIN, ...args], { reject: false, env: { XCTL_ENDPOINTS: proxy.endpoint, XNET_LOG_LEVEL: 'debug' } });
      kills.push(() => { p.kill('SIGKILL'); });
      let out = '';
      let err = '';
      let code: number | undefined;
      p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      void p.then((r) => { code = r.exitCode ?? -1; });
      const run: Running = { out: () => out, lines: () => out.split('\n').filter(Boolean), err: () => err, exit: () => code };
      await eventually(async () => code !== undefined || (await etcdWatchers()) > before, `xctl ${args.join(' ')} watching`);
      expect(code, `xctl ${args.join(' ')} ended before its watch was made; stderr: ${err}`).toBeUndefined();
      return run;
    },
    async cutUntilRefused() {
      const refused = proxy.refused;
      proxy.cut();
      expect(await pollUntil(() => proxy.refused >= refused + 2, POLL_MS), 'xctl tried to reach etcd while cut off').toBe(true);
    },
  };
}

/** Compacts etcd's history up to now; `gone` (a revision the watch would resume from) must be compacted. */
async function compactPast(gone: number): Promise<void> {
  const raw = built.etcd.client();
  const now = Number((await raw.get('compact-marker').exec()).header.revision);
  expect(now, 'changes were made after the revision the watch would resume from').toBeGreaterThan(gone);
  await raw.kv.compact({ revision: String(now), physical: true });
  await expect(raw.kv.range({ key: Buffer.from('/xnet/'), revision: String(gone) })).rejects.toThrow(/compacted/);
}

const revisionNow = async () => Number((await built.etcd.client().get('revision-marker').exec()).header.revision);

describe('xctl get -w through a connection cut and restored', () => {
  it('prints the changes made while cut off and after the restore, each once, and nothing again', async () => {
    const { proxy, start, cutUntilRefused } = await throughProxy();
    await xctl(['apply', '-f', '-'], cnYaml('ra-1', '10.61.0.0/16', 'ra'));
    const w = await start(['get', 'cn', '-l', 't=ra', '-w', '-o', 'name']);
    expect(w.lines()).toEqual(['clusternetwork/ra-1']);

    await cutUntilRefused();
    // made and deleted while xctl was cut off: only a resume from the last revision it had sees it
    await xctl(['apply', '-f', '-'], cnYaml('ra-brief', '10.62.0.0/16', 'ra'));
    await xctl(['delete', 'cn', 'ra-brief']);
    proxy.heal();
    await xctl(['apply', '-f', '-'], cnYaml('ra-after', '10.63.0.0/16', 'ra'));

    expect(await pollUntil(() => w.out().includes('ra-after'), POLL_MS), `the change after the restore printed; stdout: ${w.out()} stderr: ${w.err()}`).toBe(true);
    // a deleted object is printed once more, as kubectl's watch prints it
    expect(w.lines()).toEqual(['clusternetwork/ra-1', 'clusternetwork/ra-brief', 'clusternetwork/ra-brief', 'clusternetwork/ra-after']);
    expect(w.exit()).toBeUndefined();
  }, 90_000);
});

describe('xctl wait through a connection cut and restored', () => {
  const forReady = ['--for', 'jsonpath={.metadata.labels.ready}=yes', '--timeout', '120s'];

  it('ends with exit 0 when the condition becomes true after the restore', async () => {
    const { proxy, start, cutUntilRefused } = await throughProxy();
    await xctl(['apply', '-f', '-'], cnYaml('rb-1', '10.64.0.0/16', 'rb'));
    const w = await start(['wait', 'cn/rb-1', ...forReady]);
    await cutUntilRefused();
    proxy.heal();
    await xctl(['label', 'cn', 'rb-1', 'ready=yes']);
    await expectConditionMet(w, 'rb-1');
  }, 90_000);

  it('ends with exit 0 when the condition held for a while only, while it was cut off', async () => {
    const { proxy, start, cutUntilRefused } = await throughProxy();
    await xctl(['apply', '-f', '-'], cnYaml('rb-2', '10.65.0.0/16', 'rb'));
    const w = await start(['wait', 'cn/rb-2', ...forReady]);
    await cutUntilRefused();
    await xctl(['label', 'cn', 'rb-2', 'ready=yes']);
    await xctl(['label', 'cn', 'rb-2', 'ready-']);
    proxy.heal();
    // the resumed watch delivers both changes; a relist would find the label gone and wait on
    await expectConditionMet(w, 'rb-2');
  }, 90_000);
});

describe('xctl watches when etcd compacted past them while they were cut off', () => {
  it('get -w relists and prints what changed in between, once', async () => {
    const { proxy, start, cutUntilRefused } = await throughProxy();
    await xctl(['apply', '-f', '-'], cnYaml('rc-1', '10.66.0.0/16', 'rc'));
    await xctl(['apply', '-f', '-'], cnYaml('rc-2', '10.67.0.0/16', 'rc'));
    const w = await start(['get', 'cn', '-l', 't=rc', '-w', '-o', 'name']);
    expect(w.lines()).toEqual(['clusternetwork/rc-1', 'clusternetwork/rc-2']);
    const watchedUpTo = await revisionNow();

    await cutUntilRefused();
    await xctl(['delete', 'cn', 'rc-1']);
    await xctl(['apply', '-f', '-'], cnYaml('rc-3', '10.68.0.0/16', 'rc'));
    await compactPast(watchedUpTo + 1);
    proxy.heal();

    expect(await pollUntil(() => w.out().includes('rc-3'), POLL_MS), `the change made while cut off printed; stdout: ${w.out()} stderr: ${w.err()}`).toBe(true);
    await xctl(['apply', '-f', '-'], cnYaml('rc-after', '10.69.0.0/16', 'rc'));
    expect(await pollUntil(() => w.out().includes('rc-after'), POLL_MS), `the change after the relist printed; stdout: ${w.out()} stderr: ${w.err()}`).toBe(true);
    // rc-1 deleted (printed once more), rc-3 made; rc-2, unchanged, not printed again
    expect(w.lines()).toEqual(['clusternetwork/rc-1', 'clusternetwork/rc-2', 'clusternetwork/rc-1', 'clusternetwork/rc-3', 'clusternetwork/rc-after']);
    expect(w.exit()).toBeUndefined();
  }, 90_000);

  it('wait judges its condition again after the relist and ends with exit 0', async () => {
    const { proxy, start, cutUntilRefused } = await throughProxy();
    await xctl(['apply', '-f', '-'], cnYaml('rc-w', '10.70.0.0/16', 'rcw'));
    const w = await start(['wait', 'cn/rc-w', '--for', 'jsonpath={.metadata.labels.ready}=yes', '--timeout', '120s']);
    const watchedUpTo = await revisionNow();
    await cutUntilRefused();
    await xctl(['label', 'cn', 'rc-w', 'ready=yes']);
    await xctl(['label', 'cn', 'rc-w', 'other=1']);
    await compactPast(watchedUpTo + 1);
    proxy.heal();
    await expectConditionMet(w, 'rc-w');
  }, 90_000);

  it('get events -w relists and prints the events written in between, once, and goes on', async () => {
    const { proxy, start, cutUntilRefused } = await throughProxy();
    const recorder = new EventRecorder({ client: built.etcd.client(), source: { component: 'controller' } });
    const about = { kind: 'ClusterNetwork', name: 'rc-events' };
    await recorder.record(about, 'Normal', 'EvBefore', 'before the cut');
    const w = await start(['get', 'events', '-w', '-o', 'jsonpath={.reason}{"\\n"}']);
    expect(w.lines().filter((l) => l.startsWith('Ev'))).toEqual(['EvBefore']);
    const watchedUpTo = await revisionNow();

    await cutUntilRefused();
    await recorder.record(about, 'Normal', 'EvDuring', 'while xctl was cut off');
    await recorder.record(about, 'Warning', 'EvDuringToo', 'while xctl was cut off');
    await compactPast(watchedUpTo + 1);
    proxy.heal();

    expect(await pollUntil(() => w.out().includes('EvDuringToo') || w.exit() !== undefined, POLL_MS), `the events written while cut off printed; stdout: ${w.out()} stderr: ${w.err()}`).toBe(true);
    expect(w.exit(), `get events -w ended; stderr: ${w.err()}`).toBeUndefined();
    await recorder.record(about, 'Normal', 'EvAfter', 'after the relist');
    expect(await pollUntil(() => w.out().includes('EvAfter'), POLL_MS), `the event after the relist printed; stdout: ${w.out()} stderr: ${w.err()}`).toBe(true);
    expect(w.lines().filter((l) => l.startsWith('Ev'))).toEqual(['EvBefore', 'EvDuring', 'EvDuringToo', 'EvAfter']);
  }, 90_000);
});
