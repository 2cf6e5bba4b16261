// pkg/log.ts: a message below the logger's level is dropped before winston builds or formats it;
// a message at or above the level is written as before, and a level changed later is honoured.
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../pkg/log.js';

describe('createLogger', () => {
  it('never hands a message below the level to winston, and writes those at or above it', () => {
    const log = createLogger('test', { node: 'n1' });
    log.level = 'warn';
    const write = vi.spyOn(log, 'write').mockImplementation(() => true);
    log.info('dropped', { why: 'below warn' });
    log.debug('dropped too');
    expect(write).not.toHaveBeenCalled();
    log.warn('kept', { error: 'x' });
    log.error('kept too');
    expect(write.mock.calls.map((c) => (c[0] as { message: string }).message)).toEqual(['kept', 'kept too']);
    expect(write.mock.calls[0][0]).toMatchObject({ level: 'warn', component: 'test', node: 'n1', error: 'x' });
  });

  it('follows a level changed after creation, also through a method taken off the logger', () => {
    const log = createLogger('test');
    log.level = 'error';
    const write = vi.spyOn(log, 'write').mockImplementation(() => true);
    const info = log.info;
    info('dropped');
    expect(write).not.toHaveBeenCalled();
    log.level = 'debug';
    log.debug('now kept');
    info('kept through the detached method');
    expect(write.mock.calls.map((c) => (c[0] as { message: string }).message)).toEqual(['now kept', 'kept through the detached method']);
  });
});
