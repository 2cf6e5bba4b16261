// The agent's record of the Docker networks it made (pkg/agent/network-record.ts): written whole,
// read back by a restarted agent, and an unusable file is kept aside and read as empty, so that
// no network is removed on the strength of a record that cannot be read.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentRecord, NetworkRecord, NETWORK_RECORD_FILE } from '../../pkg/agent/network-record.js';

const dir = mkdtempSync(join(tmpdir(), 'xnet-network-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `${n++}`, NETWORK_RECORD_FILE);

describe('the network record', () => {
  it('adds what it is told, forgets what is off the host, and is read back whole by a restarted agent', () => {
    const path = fresh();
    const r = new NetworkRecord(path, () => undefined);
    r.update(new Map([['a1', 'HostSubnet/h1'], ['b2', 'HostSubnet/h2']]));
    r.update(new Map(), new Set(['b2', 'c3']));
    expect(Object.fromEntries(new NetworkRecord(path, () => undefined).made())).toEqual({ b2: 'HostSubnet/h2' });
  });

  it('reads a file that is not a record as empty, says so, and keeps it as <file>.bad', () => {
    for (const text of ['{not json', JSON.stringify({ version: 2, networks: {} }), JSON.stringify({ version: 1, networks: { a1: 7 } })]) {
      const path = fresh();
      const warnings: string[] = [];
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      const r = new NetworkRecord(path, (m) => warnings.push(m));
      expect(r.made().size, text).toBe(0);
      expect(warnings, text).toEqual([expect.stringContaining('treating the network record as empty')]);
      expect(readFileSync(`${path}.bad`, 'utf8')).toBe(text);
      expect(existsSync(path)).toBe(false);
    }
  });

  // xctl verify --local and lab verify read the agent's record in their own process: a file that
  // is not a record was moved to .bad by them, unheard (their warn is silent), and the agent
  // then found no file and never said its evidence was lost.
  it('as a verify reads it (agentRecord): a file that is not a record is read as empty and left where it is, for the agent to say', () => {
    const path = fresh();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '{not json');
    expect(agentRecord('host-1', dirname(path)).made().size).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('{not json');
    expect(existsSync(`${path}.bad`)).toBe(false);
    const warnings: string[] = [];
    expect(new NetworkRecord(path, (m) => warnings.push(m)).made().size).toBe(0);
    expect(warnings).toEqual([expect.stringContaining('not JSON')]);
  });

  it('keeps what it is told while the file cannot be written, says so once, and writes it once it can', () => {
    const blocker = join(dir, `${n++}`);
    writeFileSync(blocker, '');
    const path = join(blocker, NETWORK_RECORD_FILE);
    const warnings: string[] = [];
    const r = new NetworkRecord(path, (m) => warnings.push(m));
    r.update(new Map([['a1', 'HostSubnet/h1']]));
    r.update(new Map([['a1', 'HostSubnet/h1']]), new Set(['a1']));
    expect(Object.fromEntries(r.made())).toEqual({ a1: 'HostSubnet/h1' });
    expect(warnings.filter((m) => m.includes('cannot write the network record'))).toHaveLength(1);
    rmSync(blocker);
    r.update(new Map());
    expect(Object.fromEntries(new NetworkRecord(path, () => undefined).made())).toEqual({ a1: 'HostSubnet/h1' });
  });

  it('forgets, from a list of Docker\'s networks, only what it held before that list was read: another pass may have made one since', () => {
    const r = new NetworkRecord(fresh(), () => undefined);
    r.update(new Map([['a1', 'HostSubnet/h1']]));
    const readAt = r.now();
    // a MacvlanNet's pass records the network Docker just made for it, after the HostSubnets' pass read Docker's list
    r.update(new Map([['m1', 'MacvlanNet/lan']]));
    r.update(new Map(), new Set(), readAt);
    expect(Object.fromEntries(r.made())).toEqual({ m1: 'MacvlanNet/lan' });
    r.update(new Map(), new Set(), r.now());
    expect(r.made().size).toBe(0);
  });

  it('names an orphan once per run', () => {
    const r = new NetworkRecord(fresh(), () => undefined);
    expect([r.firstMention('a1'), r.firstMention('a1'), r.firstMention('b2')]).toEqual([true, false, true]);
  });
});
