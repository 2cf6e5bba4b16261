// The IPAM plugin's journal file against what the file system can do to it: a write(2) that
// takes only part of the buffer (a full disk, a signal, a network file system), and a read
// that fails for another reason than the file being absent (EISDIR, EACCES, EIO). node:fs is
// replaced by a pass-through whose writeSync can be made to write at most a few bytes a call.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AddressBook } from '../../pkg/dockeripam/book.js';
import { FileJournal, JournalUnreadableError, type JournalState } from '../../pkg/dockeripam/journal.js';

const short = vi.hoisted(() => ({ max: Infinity, calls: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = (fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]): number => {
    short.calls++;
    if (short.max === Infinity) return (fs.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
    // a short write: at most `max` bytes of what was asked, wherever it was asked from
    const whole = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const offset = typeof data === 'string' ? 0 : (rest[0] as number | undefined) ?? 0;
    const length = typeof data === 'string' ? whole.length : (rest[1] as number | undefined) ?? whole.length - offset;
    return fs.writeSync(fd, whole, offset, Math.min(length, short.max));
  };
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const state = (n: number): JournalState => ({
  version: 1,
  nets: { m: { pool: Array.from({ length: n }, (_, i) => `10.9.${i >> 8}.${i & 255}`), assigned: {}, returned: [], external: [], requested: [], want: 0, probed: [] } },
});

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'xnet-journal-')); short.max = Infinity; short.calls = 0; });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FileJournal.save', () => {
  it('writes every byte when write(2) takes a few at a time, before the rename', () => {
    const path = join(dir, 'j.json');
    const s = state(200);
    short.max = 500;
    new FileJournal(path).save(s);
    const text = readFileSync(path, 'utf8');
    expect(text.length).toBeGreaterThan(2000);
    expect(short.calls).toBeGreaterThan(3);
    expect(JSON.parse(text)).toEqual(s);
    short.max = Infinity;
    expect(new FileJournal(path).load()).toEqual(s);
  });

  it('fails, leaving the old journal in place, when write(2) writes nothing', () => {
    const path = join(dir, 'j.json');
    new FileJournal(path).save(state(1));
    short.max = 0;
    expect(() => new FileJournal(path).save(state(50))).toThrow(/wrote 0 of \d+ bytes/);
    short.max = Infinity;
    expect(new FileJournal(path).load()).toEqual(state(1));
  });
});

describe('FileJournal.load', () => {
  it('starts empty when there is no journal yet (ENOENT)', () => {
    expect(new FileJournal(join(dir, 'none', 'j.json')).load()).toEqual({ version: 1, nets: {} });
  });

  it('refuses a journal it cannot read (EISDIR), leaving it as it is and never writing over it', () => {
    const path = join(dir, 'j.json');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'x');
    const bad: string[] = [];
    const journal = new FileJournal(path, (m) => bad.push(m));
    let err: unknown;
    try { journal.load(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(JournalUnreadableError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toContain('EISDIR');
    expect((err as Error).message).toMatch(/move it away/);
    // the book is never made on it, so nothing can overwrite it
    expect(() => new AddressBook(journal, () => {})).toThrow(JournalUnreadableError);
    expect(readdirSync(dir).sort()).toEqual(['j.json']);
    expect(existsSync(join(path, 'inside'))).toBe(true);
    expect(bad).toEqual([]);
  });
});
