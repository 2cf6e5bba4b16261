// Last-resort behaviour shared by both daemons: a command that hangs is killed at its deadline,
// and an error nothing caught ends the process with a log line and a non-zero exit (so its
// supervisor restarts it) instead of leaving it running in an unknown state.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandError, run } from '../../pkg/netlink/exec.js';
import { UNCAUGHT_EXIT_CODE } from '../../pkg/cli/daemon.js';

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('command deadlines', () => {
  it('kills a command that runs past its budget and says so', async () => {
    // a sleep of ten minutes, longer than the test's own timeout: a call that waited for it to
    // end instead of killing it would fail the test (no clock read here)
    const err = await run('sh', ['-c', 'exec sleep 600'], undefined, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).reason).toBe('CommandTimedOut');
    expect((err as CommandError).message).toContain('killed after 300 ms');
  });

  it('leaves no child behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnet-exec-'));
    try {
      const pidFile = join(dir, 'pid');
      await run('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`], undefined, { timeoutMs: 300 }).catch(() => undefined);
      const { readFileSync } = await import('node:fs');
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(pid).toBeGreaterThan(1);
      await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a command that finishes in time is unaffected', async () => {
    expect(await run('sh', ['-c', 'echo ok'], undefined, { timeoutMs: 5000 })).toBe('ok\n');
  });
});

describe('uncaught errors in a daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xnet-uncaught-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // The built daemon code under plain node, as a daemon runs it (vite-node, which ran the
  // sources, cost several CPU seconds per script to start and transform them).
  const daemon = resolve('dist/pkg/cli/daemon.js');
  const log = resolve('dist/pkg/log.js');
  const script = (body: string) => {
    const f = join(dir, `s${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(f, [
      `import { exitOnUncaught } from ${JSON.stringify(daemon)};`,
      `import { createLogger } from ${JSON.stringify(log)};`,
      `exitOnUncaught(createLogger('test'), 'xnet-test');`,
      body,
      // would keep the process alive for 20 s if the handler did not end it
      'setTimeout(() => { console.log("still running"); }, 20000);',
    ].join('\n'));
    return execa('node', [f], { reject: false, timeout: 40_000 });
  };

  it('an exception thrown in a timer is logged and exits non-zero', async () => {
    const r = await script('setTimeout(() => { throw new Error("boom from a listener"); }, 10);');
    expect(r.exitCode).toBe(UNCAUGHT_EXIT_CODE);
    expect(r.stdout).not.toContain('still running');
    expect(r.stderr).toContain('uncaught exception');
    expect(r.stderr).toContain('boom from a listener');
  });

  it('an unhandled rejection is logged and exits non-zero', async () => {
    const r = await script('void Promise.reject(new Error("nobody awaited me"));');
    expect(r.exitCode).toBe(UNCAUGHT_EXIT_CODE);
    expect(r.stderr).toContain('unhandled promise rejection');
    expect(r.stderr).toContain('nobody awaited me');
  });
});

// A daemon stops on SIGTERM with exit 0 only when its stop worked; a SIGTERM that arrives while
// it is still starting (its start then fails, cut short by the stop) is a stop like any other.
describe('exit codes of a daemon stopped by a signal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xnet-stop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // The built daemon code under plain node, as a daemon runs (vite-node has SIGTERM handling and
  // a server of its own, which hid that the start-up script below left node nothing to wait on).
  const daemon = resolve('dist/pkg/cli/daemon.js');
  const log = resolve('dist/pkg/log.js');
  /** Runs body as a daemon's main module; once it prints 'ready', sends SIGTERM (unless told not to). */
  const stopped = async (body: string, signal = true) => {
    const f = join(dir, `s${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(f, [
      `import { startOrExit, stopOnSignals } from ${JSON.stringify(daemon)};`,
      `import { createLogger } from ${JSON.stringify(log)};`,
      'const log = createLogger(\'test\');',
      // before the body: a body awaiting a start that only a signal settles would otherwise
      // leave node an empty event loop, and it exits 13 (unsettled top-level await)
      'setTimeout(() => { console.log("still running"); }, 20000);',
      body,
    ].join('\n'));
    // execa's own SIGKILL 5 s after a kill() would cut a stop the daemon gives 10 s (a loaded
    // machine once took that long): the exit code under test is the daemon's, not execa's.
    const p = execa('node', [f], { reject: false, timeout: 40_000, forceKillAfterDelay: false });
    if (signal) {
      // (a script that dies first is not waited for)
      const ready = await Promise.race([
        new Promise<boolean>((r) => p.stdout!.on('data', (d) => { if (String(d).includes('ready')) r(true); })), p.then(() => false)]);
      if (ready) p.kill('SIGTERM');
    }
    return p;
  };

  it('exits 0 when stop worked', async () => {
    const r = await stopped('stopOnSignals(log, "xnet-test", "stopping", async () => undefined); console.log("ready");');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain('still running');
  });

  it('exits 1, logging why, when stop threw', async () => {
    const r = await stopped('stopOnSignals(log, "xnet-test", "stopping", async () => { throw new Error("etcd would not close"); }); console.log("ready");');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).not.toContain('still running');
    expect(r.stderr).toContain('etcd would not close');
  });

  it('exits 0 when the signal came during start-up and cut the start short', async () => {
    const r = await stopped([
      'let cut;',
      // stop makes the start fail at once, then takes a while of its own (closing clients)
      'const signals = stopOnSignals(log, "xnet-test", "stopping", async () => { cut(new Error("client closed")); await new Promise((r) => setTimeout(r, 500)); });',
      'await startOrExit(signals, log, "xnet-test", () => new Promise((_, reject) => { cut = reject; console.log("ready"); }));',
    ].join('\n'));
    expect(r.stderr).not.toContain('failed to start');
    expect({ exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut }).toEqual({ exitCode: 0, signal: undefined, timedOut: false });
  });

  it('exits 1 when start failed and no signal was stopping it', async () => {
    const r = await stopped('await startOrExit(stopOnSignals(log, "xnet-test", "stopping", async () => undefined), log, "xnet-test", async () => { throw new Error("no etcd"); });', false);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).not.toContain('still running');
    expect(r.stderr).toContain('xnet-test failed to start');
    expect(r.stderr).toContain('no etcd');
  });
});
