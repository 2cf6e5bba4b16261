// The agent's record of the Docker networks it made (pkg/agent/network-record.ts): written whole,
// read back by a restarted agent, and an unusable file is kept aside and read as empty, so that
// no network is removed on the strength of a record that cannot be read. One that exists but
// cannot be read (here: a directory in its place, EISDIR; root reads any file) is read again by
// a later pass, with backoff, and used once it reads.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentRecord, MAX_RECORDED_NETWORKS, NetworkRecord, NETWORK_RECORD_FILE, RETRY_FIRST_MS, RETRY_MAX_MS } from '../../pkg/agent/network-record.js';
import { madeHere } from '../../pkg/agent/planner/owner.js';

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

  it('records at most MAX_RECORDED_NETWORKS networks and names one left out once, not at every pass', () => {
    const warnings: string[] = [];
    const r = new NetworkRecord(fresh(), (m) => warnings.push(m));
    const all = new Map(Array.from({ length: MAX_RECORDED_NETWORKS + 1 }, (_, i) => [`id${i}`, `HostSubnet/h${i}`]));
    r.update(all);
    r.update(all);
    expect(r.made().size).toBe(MAX_RECORDED_NETWORKS);
    expect(warnings).toEqual([expect.stringContaining(`not recording id${MAX_RECORDED_NETWORKS} (HostSubnet/h${MAX_RECORDED_NETWORKS})`)]);
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

describe('a network record that exists but cannot be read', () => {
  /** `path` holding `networks`, in place of the directory that stood there */
  const fix = (path: string, networks: Record<string, string>) => { rmSync(path, { recursive: true }); writeFileSync(path, JSON.stringify({ version: 1, networks })); };
  const unreadable = () => { const path = fresh(); mkdirSync(path, { recursive: true }); return path; };

  it('is read again by a pass after the wait, said once when it fails and once when it reads; then it is used and what the run made joins it', () => {
    const path = unreadable();
    const warnings: string[] = [];
    const infos: string[] = [];
    let t = 1_000;
    const r = new NetworkRecord(path, (m) => warnings.push(m), { info: (m) => infos.push(m), clock: () => t });
    expect(r.made().size).toBe(0);
    // what this run makes is kept in memory, and the file is not written over
    r.update(new Map([['b2', 'HostSubnet/h2']]));
    fix(path, { a1: 'HostSubnet/h1' });
    t += RETRY_FIRST_MS - 1;
    expect(Object.fromEntries(r.made())).toEqual({ b2: 'HostSubnet/h2' });
    t += 1;
    expect(Object.fromEntries(r.made())).toEqual({ a1: 'HostSubnet/h1', b2: 'HostSubnet/h2' });
    // the record is evidence again: a1 is this node's network of h1
    expect(madeHere({ id: 'a1', driver: 'bridge', labels: { 'io.xnet.owner': 'HostSubnet/h1' } }, 'HostSubnet', r.made())).toBe(true);
    expect(warnings).toEqual([expect.stringContaining('cannot read the network record (EISDIR')]);
    expect(infos).toEqual([expect.stringContaining('the network record reads again (1 network(s) recorded, 1 made or found in this run')]);
    // and it is written again: what the run made is in the file
    expect(Object.fromEntries(new NetworkRecord(path, () => undefined).made())).toEqual({ a1: 'HostSubnet/h1', b2: 'HostSubnet/h2' });
    r.made();
    expect([warnings.length, infos.length]).toEqual([1, 1]);
  });

  it('is read again less and less often while it still cannot be read, up to a bound, and said only once', () => {
    const path = unreadable();
    const warnings: string[] = [];
    let t = 0;
    const r = new NetworkRecord(path, (m) => warnings.push(m), { clock: () => t });
    r.made();
    // failed reads at 30 s, then 90 s (30 + 60): the next is 120 s later
    for (const at of [RETRY_FIRST_MS, 3 * RETRY_FIRST_MS]) { t = at; expect(r.made().size).toBe(0); }
    fix(path, { a1: 'HostSubnet/h1' });
    t = 7 * RETRY_FIRST_MS - 1;
    expect(r.made().size).toBe(0);
    t = 7 * RETRY_FIRST_MS;
    expect(r.made().size).toBe(1);
    expect(warnings.filter((m) => m.includes('cannot read'))).toHaveLength(1);
    // the wait never grows past RETRY_MAX_MS
    const stuck = unreadable();
    let u = 0;
    const s = new NetworkRecord(stuck, () => undefined, { clock: () => u });
    s.made();
    for (let i = 0; i < 12; i++) { u += RETRY_MAX_MS; s.made(); }
    fix(stuck, { a1: 'HostSubnet/h1' });
    u += RETRY_MAX_MS;
    expect(s.made().size).toBe(1);
  });
});
