// A long-lived command's lines go to a handler that may throw: the throw is reported through
// onLineError and the lines after it still arrive (it never escapes the stream's listener,
// where it would end the agent). `printf` stands in for `ip monitor`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchLines } from '../../pkg/netlink/monitor.js';

describe('watchLines', () => {
  it('reports a throwing handler and goes on with the next line', async () => {
    const seen: string[] = [];
    const failed: string[] = [];
    let done!: () => void;
    const exited = new Promise<void>((r) => { done = r; });
    const m = watchLines('printf', ['one\\ntwo\\nthree\\n'], (line) => {
      if (line === 'two') throw new Error('handler bug');
      seen.push(line);
    }, { restart: false, onRestart: () => done(), onLineError: (err, line) => failed.push(`${line}: ${err.message}`) });
    try {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      expect(seen).toEqual(['one', 'three']);
      expect(failed).toEqual(['two: handler bug']);
    } finally {
      m.close();
    }
  });

  // `ip monitor` that cannot run (its namespace gone, nf_tables missing for `nft monitor`) used
  // to be started again every second for ever: a warning each time, and on the host a resync of
  // everything. Restarts back off now, doubling from restartMs.
  it('starts a command that fails at once again less and less often', async () => {
    const whys: string[] = [];
    const m = watchLines('sh', ['-c', 'exit 3'], () => undefined, { restartMs: 100, onRestart: (why) => whys.push(why) });
    try {
      await new Promise((r) => setTimeout(r, 2000));
      // 100 ms apart for ever was 12 to 19 in 2 s here; 100, 200, 400, 800 ms apart is 5 at most
      expect(whys.length).toBeGreaterThanOrEqual(2);
      expect(whys.length, whys.join('\n')).toBeLessThanOrEqual(5);
      expect(whys[0]).toContain('sh exited (3)');
    } finally {
      await m.close();
    }
  });

  // `ip monitor` shows changes only, never the state: what changed while none ran (between the
  // exit and the restart, up to 30 s once it backs off) is found only by a look after the new
  // one runs. onRestart, on which the agent looks at everything again, came at the exit.
  it('says it restarted once the new command runs, so a look then misses nothing of the gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnet-watch-'));
    const seen: Array<number | undefined> = [];
    // exits at once the first time, runs on the second
    const m = watchLines('sh', ['-c', `if [ -e ${dir}/ran ]; then exec sleep 30; else touch ${dir}/ran; exit 1; fi`], () => undefined, {
      restartMs: 200, onRestart: () => { seen.push(m.pid); },
    });
    try {
      const t0 = Date.now();
      while (!seen.length && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toHaveLength(1);
      expect(seen[0], 'the new command running when onRestart is called').toBeGreaterThan(0);
    } finally {
      await m.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

