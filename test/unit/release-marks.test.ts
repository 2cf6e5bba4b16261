// Release marks (pkg/ipam/release-mark.ts, pkg/controller/released-index.ts): the key each
// sits at, what decodes as one (read from etcd, so untrusted), and how a controller that did not
// see a release counts its cooldown from one: by the wall clocks' difference, never more than
// the whole cooldown from now, never for an address claimed again since, never over what it
// saw itself. Pure: no etcd (test/integration/controller-cooldown-durable.test.ts writes and
// reads them through real controllers).
import { describe, expect, it } from 'vitest';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import { decodeReleaseMark, ipamKeyProblem, markAge } from '../../pkg/ipam/release-mark.js';
import { ReleasedIndex, type Release } from '../../pkg/controller/released-index.js';
import { controllerAdmit } from '../../pkg/controller/admit.js';
import { Keys } from '../../pkg/store/keys.js';
import { monotonicMs } from '../../pkg/runtime/clock.js';
import { parseIPv4 } from '../../pkg/ip/ipv4.js';

const ipam = new IpamKeys('/x');
const IP = parseIPv4('10.1.2.3');
const COOLDOWN = 30_000;

describe('a release mark\'s key', () => {
  it('sits next to its pool\'s claims and parses back; it is no claim, and a claim is no mark', () => {
    const key = ipam.releaseMark('macvlannets', 'lan', IP);
    expect(key).toBe('/x/ipam/macvlannets/lan/released/010.001.002.003');
    expect(ipam.parseReleaseMark(key)).toEqual({ type: 'macvlannets', pool: 'lan', ip: IP });
    expect(ipam.parse(key)).toBeUndefined();
    expect(ipam.parseReleaseMark(ipam.claim('macvlannets', 'lan', 'addresses', IP))).toBeUndefined();
    expect(ipam.parseReleaseMark('/x/ipam/macvlannets/lan/released/10.1.2.3')).toBeUndefined();
  });
});

describe('what decodes as a release mark', () => {
  it('a role and a time; anything else is refused, naming the field', () => {
    expect(decodeReleaseMark('{"role":"nic","releasedAtMs":5}')).toEqual({ mark: { role: 'nic', releasedAtMs: 5 } });
    expect(decodeReleaseMark('not json')).toEqual({ error: 'the release mark is not readable JSON' });
    expect((decodeReleaseMark('{"role":"boss","releasedAtMs":5}') as { error: string }).error).toMatch(/^the release mark does not decode: role /);
    expect((decodeReleaseMark('{"role":"nic","releasedAtMs":-1}') as { error: string }).error).toMatch(/releasedAtMs/);
    expect((decodeReleaseMark('{"role":"nic","releasedAtMs":1,"ip":"1.2.3.4"}') as { error: string }).error).toMatch(/ip/);
  });

  it('the controller\'s cache keeps a mark parsed, and refuses one that does not decode', () => {
    const admit = controllerAdmit(new Keys('/x'), ipam);
    const kv = { key: ipam.releaseMark('clusternetworks', 'c', IP), value: '{"role":"shim","releasedAtMs":7}', createRevision: '1', modRevision: '1', lease: '9' } as Parameters<typeof admit>[0];
    expect(admit(kv)).toBeUndefined();
    expect(kv.parsed).toEqual({ role: 'shim', releasedAtMs: 7 });
    expect(admit({ ...kv, value: '[]', parsed: undefined })).toMatch(/release mark does not decode/);
  });

  it('xctl ipam check: silent on a mark, names a mark that does not decode and any other stray key', () => {
    const key = ipam.releaseMark('clusternetworks', 'c', IP);
    expect(ipamKeyProblem(ipam, key, '{"role":"nic","releasedAtMs":1}')).toBeUndefined();
    expect(ipamKeyProblem(ipam, key, '{}')).toMatch(new RegExp(`^${key}: the release mark does not decode: role`));
    expect(ipamKeyProblem(ipam, '/x/ipam/clusternetworks/c/other/010.001.002.003', '{}')).toMatch(/is not an IPAM claim/);
  });
});

describe('the cooldown a mark carries over', () => {
  const until = (r: ReleasedIndex) => r.coolingUntil('clusternetworks', 'c', IP, COOLDOWN)?.until;

  it('what is left of the cooldown by the wall clocks; a mark from a clock ahead: all of it; an old one: none', () => {
    const r = new ReleasedIndex(COOLDOWN);
    r.fileMark('clusternetworks', 'c', IP, { role: 'nic', releasedAtMs: Date.now() - 10_000 }, false);
    expect(until(r)! - monotonicMs()).toBeGreaterThan(19_000);
    expect(until(r)! - monotonicMs()).toBeLessThanOrEqual(20_000);
    const ahead = new ReleasedIndex(COOLDOWN);
    ahead.fileMark('clusternetworks', 'c', IP, { role: 'nic', releasedAtMs: Date.now() + 60_000 }, false);
    expect(until(ahead)! - monotonicMs()).toBeGreaterThan(29_000);
    expect(markAge({ role: 'nic', releasedAtMs: 100 }, 50)).toBe(0);
    const old = new ReleasedIndex(COOLDOWN);
    old.fileMark('clusternetworks', 'c', IP, { role: 'nic', releasedAtMs: Date.now() - COOLDOWN - 1 }, false);
    expect(until(old)).toBeUndefined();
  });

  it('nothing for an address claimed again; over a release this controller saw, only a later mark', () => {
    const claimed = new ReleasedIndex(COOLDOWN);
    claimed.fileMark('clusternetworks', 'c', IP, { role: 'nic', releasedAtMs: Date.now() }, true);
    expect(until(claimed)).toBeUndefined();
    const seen = new ReleasedIndex(COOLDOWN);
    seen.fileClaim('clusternetworks', 'c', IP, { role: 'nic' }, monotonicMs() - 5_000);
    seen.fileMark('clusternetworks', 'c', IP, { role: 'nic', releasedAtMs: Date.now() - 20_000 }, false);
    expect(until(seen)! - monotonicMs(), 'its own sight of the release, later than the mark').toBeGreaterThan(24_000);
    // a later release it missed while it still cools an earlier one: the later counts (never shorter)
    const later = new ReleasedIndex(COOLDOWN);
    later.fileClaim('clusternetworks', 'c', IP, { role: 'nic' }, monotonicMs() - 25_000);
    later.fileMark('clusternetworks', 'c', IP, { role: 'nic', releasedAtMs: Date.now() - 1_000 }, false);
    expect(until(later)! - monotonicMs()).toBeGreaterThan(28_000);
  });

  it('a later release this controller missed: its mark counts over a record of an earlier one that has cooled', () => {
    const r = new ReleasedIndex(COOLDOWN);
    r.fileClaim('clusternetworks', 'c', IP, { role: 'nic' }, monotonicMs() - 60_000);
    r.fileMark('clusternetworks', 'c', IP, { role: 'nic', releasedAtMs: Date.now() - 1_000 }, false);
    expect(until(r)! - monotonicMs()).toBeGreaterThan(28_000);
  });

  it('records that cooled are dropped as the index grows (a deleted pool\'s are never looked up again)', () => {
    const r = new ReleasedIndex(COOLDOWN);
    for (let i = 0; i < 1_000; i++) r.fileClaim('macvlannets', 'gone', i, { role: 'nic' }, monotonicMs() - COOLDOWN);
    for (let i = 0; i < 100; i++) r.fileClaim('macvlannets', 'lan', i, { role: 'nic' }, monotonicMs());
    expect((r as unknown as { released: Map<string, unknown> }).released.size, 'the cooled records swept').toBeLessThan(1_000);
    expect([...r.cooling(COOLDOWN)]).toHaveLength(100);
  });

  it('a deleted Node\'s pre-claim stays its Node\'s (address-cooldown.ts asks whose)', () => {
    const r = new ReleasedIndex(COOLDOWN);
    r.fileMark('macvlannets', 'lan', IP, { role: 'node-pool', releasedAtMs: Date.now(), node: 'n1', nodeGone: true }, false);
    expect(r.coolingUntil('macvlannets', 'lan', IP, COOLDOWN)).toMatchObject({ role: 'node-pool', nodeGone: true, node: 'n1' });
  });
});

describe('what the leader marks', () => {
  it('each release it sees, with its wall-clock time; and every one still cooling, for a new term', () => {
    const r = new ReleasedIndex(COOLDOWN);
    const heard: Release[] = [];
    const stop = r.onRelease((x) => heard.push(x));
    r.fileClaim('macvlannets', 'lan', IP, { role: 'shim', nodeGone: true, node: 'n2' }, monotonicMs() - 2_000);
    r.fileClaim('macvlannets', 'lan', IP + 1, undefined, monotonicMs());
    stop();
    r.fileClaim('clusternetworks', 'c', IP, { role: 'nic' }, monotonicMs() - COOLDOWN - 1);
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ type: 'macvlannets', pool: 'lan', ip: IP, role: 'shim', node: 'n2', nodeGone: true });
    expect(Math.abs(heard[0].releasedAtMs - (Date.now() - 2_000))).toBeLessThan(100);
    expect([...r.cooling(COOLDOWN)].map((x) => `${x.type}/${x.pool}/${x.ip}`)).toEqual([`macvlannets/lan/${IP}`]);
  });
});
