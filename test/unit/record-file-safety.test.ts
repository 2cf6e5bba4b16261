// The agent's records in its state directory (network-record.ts, parent-record.ts) are evidence:
// a file that exists but cannot be read for another reason than its absence (EIO, EMFILE,
// EACCES) may read fine later, so it is said once and never written over while it cannot be
// read (the network record is read again later: network-record.test.ts); and a
// file is synced before it is renamed into place, so that a power loss leaves the old record or
// the new one, never an empty file. node:fs is replaced by a pass-through whose readFileSync can
// be made to fail for one path, and which notes the order of fsyncs and renames.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { NetworkRecord, NETWORK_RECORD_FILE } from '../../pkg/agent/network-record.js';
import { ParentRecord, PARENT_RECORD_FILE } from '../../pkg/agent/parent-record.js';

const fail = vi.hoisted(() => ({ path: '', calls: [] as string[] }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const readFileSync = ((p: unknown, ...rest: unknown[]) => {
    if (p === fail.path) throw Object.assign(new Error(`EIO: i/o error, open '${p}'`), { code: 'EIO' });
    return (fs.readFileSync as (...a: unknown[]) => unknown)(p, ...rest);
  }) as typeof fs.readFileSync;
  const fsyncSync = (fd: number) => { fail.calls.push('fsync'); fs.fsyncSync(fd); };
  const renameSync = (a: string, b: string) => { fail.calls.push(`rename ${a.endsWith('.tmp') ? 'tmp' : a} -> ${b}`); fs.renameSync(a, b); };
  const over = { readFileSync, fsyncSync, renameSync };
  return { ...fs, ...over, default: { ...fs, ...over } };
});

const dir = mkdtempSync(join(tmpdir(), 'xnet-record-safety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => { fail.path = ''; fail.calls = []; });
let n = 0;
const written = (file: string, text: string) => {
  const path = join(dir, `${n++}`, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
};

describe('a network record that exists but cannot be read', () => {
  it('is said once, read as empty, and left as it is for the next agent: what this run makes is kept in memory', () => {
    const before = JSON.stringify({ version: 1, networks: { a1: 'MacvlanNet/lan' } });
    const path = written(NETWORK_RECORD_FILE, before);
    fail.path = path;
    const warnings: string[] = [];
    const r = new NetworkRecord(path, (m) => warnings.push(m));
    expect(r.made().size).toBe(0);
    r.update(new Map([['b2', 'HostSubnet/h2']]));
    r.update(new Map([['c3', 'MacvlanNet/wan']]), new Set(['b2', 'c3']));
    expect(Object.fromEntries(r.made())).toEqual({ b2: 'HostSubnet/h2', c3: 'MacvlanNet/wan' });
    expect(warnings).toEqual([expect.stringContaining('cannot read the network record (EIO')]);
    fail.path = '';
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(Object.fromEntries(new NetworkRecord(path, () => undefined).made())).toEqual({ a1: 'MacvlanNet/lan' });
  });
});

describe('a parent record that exists but cannot be read', () => {
  it('is said once, read as empty, and left as it is: a change of this run is kept in memory and said to be unrecorded', () => {
    const before = JSON.stringify({ version: 1, bootId: 'boot-1', links: { eth1: { ifindex: 3, promisc: true } } });
    const path = written(PARENT_RECORD_FILE, before);
    fail.path = path;
    const warnings: string[] = [];
    const r = new ParentRecord(path, (m) => warnings.push(m), () => 'boot-1');
    expect(r.entries()).toEqual({});
    expect(r.note([{ name: 'eth2', ifindex: 4, up: true }])).toBe(false);
    expect(r.entries()).toEqual({ eth2: { ifindex: 4, up: true } });
    expect(warnings).toEqual([expect.stringContaining('cannot read the parent record (EIO')]);
    fail.path = '';
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
});

describe('a record written', () => {
  it('is synced before it is renamed into place, and its directory after', () => {
    const path = join(dir, `${n++}`, NETWORK_RECORD_FILE);
    new NetworkRecord(path, () => undefined).update(new Map([['a1', 'HostSubnet/h1']]));
    expect(fail.calls).toEqual(['fsync', `rename tmp -> ${path}`, 'fsync']);
    fail.calls = [];
    const parents = join(dirname(path), PARENT_RECORD_FILE);
    expect(new ParentRecord(parents, () => undefined, () => 'boot-1').note([{ name: 'eth1', ifindex: 3, promisc: true }])).toBe(true);
    expect(fail.calls).toEqual(['fsync', `rename tmp -> ${parents}`, 'fsync']);
  });
});
