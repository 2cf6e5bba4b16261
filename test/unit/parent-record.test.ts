// The agent's record of what xnet changed on MacvlanNet parents (pkg/agent/parent-record.ts):
// one that exists but cannot be read (here: a directory in its place, EISDIR; root reads any
// file) is read again by a later pass, with backoff, and used once it reads, with what this run
// changed meanwhile made again on it: the changes of an earlier run of this boot are undone
// again once no MacvlanNet needs those parents, without an agent restart.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ParentRecord, PARENT_RECORD_FILE, type ParentEntries } from '../../pkg/agent/parent-record.js';
import { RETRY_FIRST_MS, RETRY_MAX_MS } from '../../pkg/agent/state-file.js';

const BOOT = 'boot-1';
const dir = mkdtempSync(join(tmpdir(), 'xnet-parent-record-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** a record path with a directory in its place: it exists and cannot be read */
const unreadable = () => { const path = join(dir, `${n++}`, PARENT_RECORD_FILE); mkdirSync(path, { recursive: true }); return path; };
/** `path` holding `links` for this boot, in place of the directory that stood there */
const fix = (path: string, links: ParentEntries) => { rmSync(path, { recursive: true }); writeFileSync(path, JSON.stringify({ version: 1, bootId: BOOT, links })); };
const inFile = (path: string) => JSON.parse(readFileSync(path, 'utf8')).links as ParentEntries;

describe('a parent record that exists but cannot be read', () => {
  it('is read again by a pass after the wait, said once when it fails and once when it reads; then it is used with what this run changed', () => {
    const path = unreadable();
    const warnings: string[] = [];
    const infos: string[] = [];
    let t = 1_000;
    const r = new ParentRecord(path, (m) => warnings.push(m), () => BOOT, { info: (m) => infos.push(m), clock: () => t });
    expect(r.entries()).toEqual({});
    // this run's change is kept in memory (undone in this run) and the file is not written over
    expect(r.note([{ name: 'eth2', ifindex: 4, up: true }])).toBe(false);
    // an earlier run of this boot set eth1 promiscuous: the file says so once it reads
    fix(path, { eth1: { ifindex: 3, promisc: true } });
    t += RETRY_FIRST_MS - 1;
    expect(r.entries()).toEqual({ eth2: { ifindex: 4, up: true } });
    t += 1;
    expect(r.entries()).toEqual({ eth1: { ifindex: 3, promisc: true }, eth2: { ifindex: 4, up: true } });
    expect(warnings).toEqual([expect.stringContaining('cannot read the parent record (EISDIR')]);
    expect(infos).toEqual([expect.stringContaining('the parent record reads again (1 interface(s) recorded for this boot, 1 change(s) of this run')]);
    // written again: a restarted agent finds both
    expect(inFile(path)).toEqual({ eth1: { ifindex: 3, promisc: true }, eth2: { ifindex: 4, up: true } });
    expect(r.note([{ name: 'eth3', ifindex: 5, promisc: true }])).toBe(true);
    expect(Object.keys(inFile(path))).toEqual(['eth1', 'eth2', 'eth3']);
    r.entries();
    expect([warnings.length, infos.length]).toEqual([1, 1]);
  });

  it('takes away on what it reads only what this run undid meanwhile: a flag of an earlier run on the same link stays, to be undone', () => {
    const path = unreadable();
    let t = 0;
    const r = new ParentRecord(path, () => undefined, () => BOOT, { clock: () => t });
    r.entries();
    // this run set eth1 promiscuous, then turned it off again (still in use); it brought eth2 up, then released it
    r.note([{ name: 'eth1', ifindex: 3, promisc: true }, { name: 'eth2', ifindex: 4, up: true }]);
    r.forgetPromisc(['eth1']);
    r.forget(['eth2']);
    expect(r.entries()).toEqual({});
    // an earlier run of this boot brought eth1 up as well, and brought eth2 up before
    fix(path, { eth1: { ifindex: 3, promisc: true, up: true }, eth2: { ifindex: 4, up: true }, eth5: { ifindex: 7, promisc: true } });
    t = RETRY_FIRST_MS;
    const left = { eth1: { ifindex: 3, up: true }, eth5: { ifindex: 7, promisc: true } };
    expect(r.entries()).toEqual(left);
    expect(inFile(path)).toEqual(left);
  });

  it('is read again less and less often while it still cannot be read, up to a bound, and said only once', () => {
    const path = unreadable();
    const warnings: string[] = [];
    let t = 0;
    const r = new ParentRecord(path, (m) => warnings.push(m), () => BOOT, { clock: () => t });
    r.entries();
    // failed reads at 30 s, then 90 s (30 + 60): the next is 120 s later
    for (const at of [RETRY_FIRST_MS, 3 * RETRY_FIRST_MS]) { t = at; expect(r.entries()).toEqual({}); }
    fix(path, { eth1: { ifindex: 3, up: true } });
    t = 7 * RETRY_FIRST_MS - 1;
    expect(r.entries()).toEqual({});
    t = 7 * RETRY_FIRST_MS;
    expect(r.entries()).toEqual({ eth1: { ifindex: 3, up: true } });
    expect(warnings.filter((m) => m.includes('cannot read'))).toHaveLength(1);
    // the wait never grows past RETRY_MAX_MS
    const stuck = unreadable();
    let u = 0;
    const s = new ParentRecord(stuck, () => undefined, () => BOOT, { clock: () => u });
    s.entries();
    for (let i = 0; i < 12; i++) { u += RETRY_MAX_MS; s.entries(); }
    fix(stuck, { eth1: { ifindex: 3, up: true } });
    u += RETRY_MAX_MS;
    expect(s.entries()).toEqual({ eth1: { ifindex: 3, up: true } });
  });
});
