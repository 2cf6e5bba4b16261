// xctl logs through stderrLogger (no winston): the same line as the daemons' winston logger,
// only at or above its level.
import { Writable } from 'node:stream';
import winston from 'winston';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { stderrLogger } from '../../pkg/log-line.js';
import { createLogger } from '../../pkg/log.js';

const LEVEL = process.env.XNET_LOG_LEVEL;
afterEach(() => { if (LEVEL === undefined) delete process.env.XNET_LOG_LEVEL; else process.env.XNET_LOG_LEVEL = LEVEL; });

function captured(f: () => void): string[] {
  const lines: string[] = [];
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { lines.push(String(chunk)); return true; });
  try { f(); } finally { write.mockRestore(); }
  return lines;
}

describe('stderrLogger', () => {
  test('writes the lines at or above its level, formatted as the daemons\' logs are', () => {
    const log = stderrLogger('store', 'warn');
    const lines = captured(() => {
      log.info('dropped');
      log.debug('dropped too');
      log.warn('skipped a key that does not decode', { key: '/xnet/x', error: 'not JSON' });
      log.error('kept');
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn \[store\] skipped a key that does not decode \{"key":"\/xnet\/x","error":"not JSON"\}\n$/);
    expect(lines[1]).toMatch(/ error \[store\] kept\n$/);
  });

  test('takes its level from XNET_LOG_LEVEL by default, and follows a level changed later', () => {
    process.env.XNET_LOG_LEVEL = 'error';
    const log = stderrLogger('store');
    expect(captured(() => log.warn('dropped'))).toEqual([]);
    log.level = 'debug';
    expect(captured(() => log.debug('now kept'))).toHaveLength(1);
  });

  test('writes the same text as the winston logger for the same message', async () => {
    const w = createLogger('store');
    for (const t of w.transports) t.silent = true; // its console: the stream below reads the line
    const out: string[] = [];
    w.add(new winston.transports.Stream({ stream: new Writable({ write(chunk, _enc, done) { out.push(String(chunk)); done(); } }) }));
    w.warn('same', { a: 1 });
    await new Promise((r) => setImmediate(r));
    const [fromLite] = captured(() => stderrLogger('store').warn('same', { a: 1 }));
    const strip = (l: string) => l.replace(/^\S+ /, '').trimEnd();
    expect(out).toHaveLength(1);
    expect(strip(fromLite)).toBe(strip(out[0]));
  });
});
