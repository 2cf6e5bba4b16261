// A long-lived command's lines go to a handler that may throw: the throw is reported through
// onLineError and the lines after it still arrive (it never escapes the stream's listener,
// where it would end the agent). `printf` stands in for `ip monitor`.
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
});
