// pkg/spawn: every program the agent and the lab run is started from the process itself while it
// is small, by one small helper process once it is large. Real programs, a real helper: what a
// caller gets back either way, deadlines, a helper that dies, and a parent that ends.
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELPER_ABOVE_RSS, spawnHelperPid, spawnProgram as spawnVia, spawnRoute, type SpawnRequest, type SpawnResult } from '../../pkg/spawn/spawn.js';
import { run } from '../../pkg/netlink/exec.js';
import { run as labRun } from '../../pkg/lab/run.js';
import { eventually } from './helpers.js';

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readStatus(pid));
function readStatus(pid: number): string {
  try { return readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return ''; }
}

describe('how programs are started', () => {
  it('from this process while it is small; by the helper once it is large, and from then on', () => {
    expect(spawnRoute(100 * 1024 * 1024, false)).toBe('direct');
    expect(spawnRoute(HELPER_ABOVE_RSS + 1, false)).toBe('helper');
    expect(spawnRoute(100 * 1024 * 1024, true)).toBe('helper');
  });
});

describe.each(['direct', 'helper'] as const)('programs started %s', (route) => {
  const spawnProgram = (req: SpawnRequest) => spawnVia(req, route);

  it('gives back output, exit code and stderr; input reaches the program', async () => {
    const r = await spawnProgram({ file: 'sh', args: ['-c', 'cat; echo err >&2; exit 3'], input: 'hello\n', timeoutMs: 10_000 });
    expect(r).toMatchObject({ stdout: 'hello\n', stderr: 'err\n', exitCode: 3, timedOut: false });
    // output larger than a pipe's buffer arrives whole
    const big = await spawnProgram({ file: 'head', args: ['-c', '3000000', '/dev/zero'], timeoutMs: 10_000 });
    expect(big.stdout.length).toBe(3_000_000);
  });

  it('runs the program with this process environment at the time of the call, plus what is asked', async () => {
    process.env.XNET_SPAWN_TEST = 'first';
    try {
      const r = await spawnProgram({ file: 'sh', args: ['-c', 'echo "$XNET_SPAWN_TEST $EXTRA"'], env: { EXTRA: 'more' }, timeoutMs: 10_000 });
      expect(r.stdout).toBe('first more\n');
    } finally {
      delete process.env.XNET_SPAWN_TEST;
    }
  });

  it('kills a program at its timeout and says so; a missing program is ENOENT', async () => {
    const t0 = Date.now();
    const r = await spawnProgram({ file: 'sleep', args: ['30'], timeoutMs: 300, killSignal: 'SIGKILL' });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect((await spawnProgram({ file: 'no-such-program-xnet', args: [], timeoutMs: 5_000 })).errorCode).toBe('ENOENT');
  });

  it('returns once a program killed at its timeout is gone, also while a child of it still holds its output', async () => {
    // as iptables does with a modprobe that hangs: the child outlives the program, holding its stdout and stderr
    const r = await withHeldOutput(route, 'echo before; exec sleep 30', { timeoutMs: 300, killSignal: 'SIGKILL' });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL', stdout: 'before\n' });
    expect(r.errorCode).toBeUndefined();
  });

  it('returns the exit code of a program that ends leaving a child that holds its output', async () => {
    const r = await withHeldOutput(route, 'echo done; exit 4', { timeoutMs: 60_000 });
    expect(r).toMatchObject({ timedOut: false, exitCode: 4, stdout: 'done\n' });
    expect(r.errorCode).toBeUndefined();
  });
});

/**
 * Runs `sh -c` with `script` after it started a child (`sleep 30`) that keeps its stdout and
 * stderr open; the result, or a failure when it did not come within 15 s (more than the
 * helper's own deadline past the timeout, HELPER_GRACE_MS). The child is ended by its PID.
 */
async function withHeldOutput(route: 'direct' | 'helper', script: string, o: { timeoutMs: number; killSignal?: NodeJS.Signals }): Promise<SpawnResult> {
  const pidFile = join(mkdtempSync(join(tmpdir(), 'xnet-spawn-')), 'child.pid');
  const call = spawnVia({ file: 'sh', args: ['-c', `sleep 30 & echo $! > ${pidFile}; ${script}`], ...o }, route);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'none'>((resolve) => { timer = setTimeout(() => resolve('none'), 15_000); });
  try {
    const r = await Promise.race([call, bound]);
    expect(r, 'the call settled within 15 s').not.toBe('none');
    return r as SpawnResult;
  } finally {
    clearTimeout(timer);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dirname(pidFile), { recursive: true, force: true });
  }
}

describe('the agent\'s and the lab\'s runners', () => {
  it('keep their errors: CommandNotFound, CommandTimedOut, CommandFailed with stderr', async () => {
    await expect(run('no-such-program-xnet', [])).rejects.toMatchObject({ reason: 'CommandNotFound' });
    await expect(run('sleep', ['30'], undefined, { timeoutMs: 200 })).rejects.toMatchObject({ reason: 'CommandTimedOut' });
    await expect(run('sh', ['-c', 'echo bad >&2; exit 2'])).rejects.toMatchObject({ reason: 'CommandFailed', exitCode: 2, stderr: 'bad\n' });
    expect(await run('echo', ['a'])).toBe('a\n');
    expect(await labRun(['echo', 'a'])).toEqual({ stdout: 'a', stderr: '', exitCode: 0 });
    expect(await labRun(['sh', '-c', 'exit 4'], { reject: false })).toMatchObject({ exitCode: 4 });
    await expect(labRun(['sh', '-c', 'echo why >&2; exit 4'])).rejects.toThrow(/sh -c .*: why/);
  });
});

describe('the spawn helper', () => {
  const spawnProgram = (req: SpawnRequest) => spawnVia(req, 'helper');

  it('a helper killed mid-call fails that call, not the next: a new helper starts', async () => {
    await spawnProgram({ file: 'true', args: [], timeoutMs: 5_000 });
    const first = spawnHelperPid()!;
    const call = spawnProgram({ file: 'sleep', args: ['5'], timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 200));
    process.kill(first, 'SIGKILL');
    const r = await call;
    expect(r.errorCode).toBe('EHELPER');
    const again = await spawnProgram({ file: 'echo', args: ['ok'], timeoutMs: 5_000 });
    expect(again.stdout).toBe('ok\n');
    expect(spawnHelperPid()).not.toBe(first);
    // (the killed helper's `sleep 5` was reparented and ends by itself)
  });

  it('a helper that does not answer is given up on at the deadline and ended; the next helper\'s calls are its own', async () => {
    await spawnProgram({ file: 'true', args: [], timeoutMs: 5_000 });
    const stuck = spawnHelperPid()!;
    process.kill(stuck, 'SIGSTOP');
    try {
      const r = await spawnProgram({ file: 'true', args: [], timeoutMs: 100 });
      expect(r).toMatchObject({ errorCode: 'EHELPER', timedOut: true });
      // a call to the next helper, running while the stuck one is killed (1 s after SIGTERM)
      const next = spawnProgram({ file: 'sh', args: ['-c', 'sleep 2; echo fine'], timeoutMs: 10_000 });
      expect(spawnHelperPid()).not.toBe(stuck);
      expect((await next).stdout).toBe('fine\n');
      await eventually(async () => !alive(stuck) || undefined, 'the stuck helper gone');
    } finally {
      try { process.kill(stuck, 'SIGCONT'); } catch { /* gone */ }
    }
  }, 30_000);

  it('ends with the process that started it, and kills what it still runs; an idle helper keeps nobody alive', async () => {
    const spawnJs = fileURLToPath(new URL('../../dist/pkg/spawn/spawn.js', import.meta.url));
    // a parent that starts a long program, prints the PIDs and is killed while it waits
    const waits = `import('${spawnJs}').then(async (m) => {
      const p = m.spawnProgram({ file: 'sleep', args: ['60'], timeoutMs: 120000 }, 'helper');
      await new Promise((r) => setTimeout(r, 300));
      const ps = await m.spawnProgram({ file: 'pgrep', args: ['-P', String(m.spawnHelperPid())], timeoutMs: 5000 }, 'helper');
      console.log(m.spawnHelperPid(), ps.stdout.trim().split('\\n').join(' '));
      await p;
    });`;
    const r = await execa('node', ['--input-type=module', '-e', waits], { timeout: 5_000, reject: false });
    expect(r.timedOut).toBe(true);
    const [helperPid, ...children] = r.stdout.trim().split(/\s+/).map(Number);
    expect(children.length).toBeGreaterThan(0);
    expect(children.every(alive) || 'already gone').toBeTruthy();
    await eventually(async () => (!alive(helperPid) && children.every((c) => !alive(c))) || undefined, 'the helper and its sleep gone');
    // a parent whose programs are done ends by itself: the idle helper does not hold it
    const ends = `import('${spawnJs}').then(async (m) => { console.log((await m.spawnProgram({ file: 'echo', args: ['done'], timeoutMs: 5000 }, 'helper')).stdout.trim()); });`;
    const idle = await execa('node', ['--input-type=module', '-e', ends], { timeout: 10_000, reject: false });
    expect(idle).toMatchObject({ exitCode: 0, stdout: 'done', timedOut: false });
  });
});
