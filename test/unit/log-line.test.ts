// xctl logs through stderrLogger (no winston): the same line as the daemons' winston logger,
// only at or above its level.
import { Writable } from 'node:stream';
import winston from 'winston';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { stderrLogger } from '../../pkg/log-line.js';
import { createLogger } from '../../pkg/log.js';

const ENV = { XNET_LOG_LEVEL: process.env.XNET_LOG_LEVEL, XNET_LOG_FORMAT: process.env.XNET_LOG_FORMAT };
afterEach(() => {
  for (const [k, v] of Object.entries(ENV)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
});

/** What the winston logger (log.ts) writes for one warn line, read from a stream transport. */
async function winstonLine(message: string, meta: object): Promise<string> {
  const w = createLogger('store');
  for (const t of w.transports) t.silent = true; // its console: the stream below reads the line
  const out: string[] = [];
  w.add(new winston.transports.Stream({ stream: new Writable({ write(chunk, _enc, done) { out.push(String(chunk)); done(); } }) }));
  w.warn(message, meta);
  await new Promise((r) => setImmediate(r));
  expect(out).toHaveLength(1);
  return out[0];
}

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
    const fromWinston = await winstonLine('same', { a: 1 });
    const [fromLite] = captured(() => stderrLogger('store').warn('same', { a: 1 }));
    const strip = (l: string) => l.replace(/^\S+ /, '').trimEnd();
    expect(strip(fromLite)).toBe(strip(fromWinston));
  });

  test('writes the same JSON as the winston logger with XNET_LOG_FORMAT=json', async () => {
    process.env.XNET_LOG_FORMAT = 'json';
    const fromWinston = JSON.parse(await winstonLine('same', { a: 1 })) as Record<string, unknown>;
    const [fromLite] = captured(() => stderrLogger('store').warn('same', { a: 1 }));
    const lite = JSON.parse(fromLite) as Record<string, unknown>;
    expect(typeof lite.timestamp).toBe('string');
    expect({ ...lite, timestamp: 't' }).toEqual({ ...fromWinston, timestamp: 't' });
  });

  test('writes nothing at a level it does not know, and keeps an Error passed as the fields', () => {
    expect(captured(() => stderrLogger('store', 'silent').error('dropped'))).toEqual([]);
    const [line] = captured(() => stderrLogger('store').warn('watch failed', new Error('etcd gone') as object));
    expect(line).toMatch(/ warn \[store\] watch failed \{"error":"etcd gone","stack":"Error: etcd gone\\n/);
  });
});
