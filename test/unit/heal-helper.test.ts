// The heal-test helper refuses the patterns that let a heal test pass whatever the agent does:
// a break that failed, a break that did not take effect, a state not whole to begin with, a
// wait as long as the resync. Plain shell commands stand in for `ip` here.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { breakAndCheck, breakVerified, HEAL_TEST_RESYNC_S, type Exec } from '../harness/heal.js';

const local: Exec = async (argv) => {
  const r = await execa(argv[0], argv.slice(1), { reject: false });
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
};

describe('breakVerified', () => {
  it('passes when the break succeeds and the probe no longer shows the state', async () => {
    await expect(breakVerified(local, ['true'], { argv: ['echo', 'eth0 only'], gone: 'eth1' })).resolves.toBeUndefined();
  });

  it('fails when the break command fails (docker exec without NET_ADMIN)', async () => {
    await expect(breakVerified(local, ['sh', '-c', 'echo "RTNETLINK answers: Operation not permitted" >&2; exit 2'], { argv: ['true'], gone: 'x' }))
      .rejects.toThrow(/exit 90.*break failed: exit 2/s);
  });

  it('fails when the state is still there after the break', async () => {
    await expect(breakVerified(local, ['true'], { argv: ['echo', 'inet 10.76.1.84/24'], gone: '10.76.1.84/24' }))
      .rejects.toThrow(/did not take effect: inet 10.76.1.84\/24/);
  });

  it('quotes arguments: a quote in the needle is matched literally', async () => {
    await expect(breakVerified(local, ['true'], { argv: ['echo', "it's here"], gone: "it's" })).rejects.toThrow(/did not take effect/);
  });
});

describe('breakAndCheck', () => {
  it('returns the heal time once the state is whole again', async () => {
    let whole = true;
    const ms = await breakAndCheck('flag', {
      whole: async () => whole,
      breakIt: async () => { whole = false; setTimeout(() => { whole = true; }, 200); },
    });
    expect(ms).toBeGreaterThanOrEqual(150);
  });

  it('refuses to break a state that is not whole first', async () => {
    await expect(breakAndCheck('flag', { whole: async () => false, breakIt: async () => {} })).rejects.toThrow(/not whole before the break/);
  });

  it('fails when nothing heals within the wait', async () => {
    let whole = true;
    await expect(breakAndCheck('flag', { whole: async () => whole, breakIt: async () => { whole = false; }, timeoutMs: 300 }))
      .rejects.toThrow(/not healed within 300 ms/);
  });

  it('refuses a wait the periodic resync could win', async () => {
    await expect(breakAndCheck('flag', { whole: async () => true, breakIt: async () => {}, timeoutMs: HEAL_TEST_RESYNC_S * 1000 }))
      .rejects.toThrow(/periodic resync/);
  });
});
