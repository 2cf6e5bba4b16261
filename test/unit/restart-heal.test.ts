// pkg/agent/heal.ts (trigger `restart`), restart-evidence.ts and routes-record.ts: the agent's
// first pass tells a repair as healed only when the reconcile proves that what it puts back was
// in place before the agent started; everything else in that pass (setting a host up, carrying
// out what was declared meanwhile) is counted nowhere.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countOps, DriftTracker, inPlaceBeforeStart } from '../../pkg/agent/heal.js';
import { nicMadeAgain, routesAfter, routesPutBack } from '../../pkg/agent/restart-evidence.js';
import { RoutesRecord } from '../../pkg/agent/routes-record.js';
import type { ContainerNic } from '../../pkg/api/index.js';
import type { Op } from '../../pkg/agent/planner/ops.js';

const dir = mkdtempSync(join(tmpdir(), 'xnet-restart-heal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DriftTracker: the start-up pass', () => {
  it('counts a first-pass reconcile only when it proves what it puts back was in place, as trigger restart with no latency', async () => {
    const heals: string[] = [];
    const t = new DriftTracker((key, _kind, trigger) => heals.push(`${key} ${trigger}`), () => false);
    // the informers' first listing declares every object: no change since the previous run
    t.declare(['routes', 'nic/a', 'nic/b']);
    t.startPass(['routes', 'nic/a', 'nic/b', 'nat']);
    await t.reconcile('routes', async () => { inPlaceBeforeStart(); countOps(1); });
    // ops with no proof: the host set up (a fresh node, a NIC attached for the first time)
    await t.reconcile('nic/a', async () => { countOps(3); });
    // proof but no op: nothing was missing
    await t.reconcile('nic/b', async () => { inPlaceBeforeStart(); });
    await t.reconcile('nat', async () => { countOps(2); });
    expect(heals).toEqual(['routes restart']);
    // the marks are used up: the next reconcile of routes is the running agent's (disabled: nothing)
    await t.reconcile('routes', async () => { inPlaceBeforeStart(); countOps(1); });
    expect(heals).toHaveLength(1);
  });

  it('does not count a first-pass reconcile whose key the store changed after the pass began', async () => {
    const heals: string[] = [];
    const t = new DriftTracker((key) => heals.push(key));
    t.startPass(['nic/a']);
    t.declare(['nic/a']);
    await t.reconcile('nic/a', async () => { inPlaceBeforeStart(); countOps(1); });
    expect(heals).toEqual([]);
  });
});

const nic = (generation = 2) => ({ apiVersion: 'xnet.io/v1', kind: 'ContainerNic', metadata: { name: 'a', uid: 'u1', generation }, spec: {} }) as unknown as ContainerNic;
const report = (over: Record<string, unknown> = {}) => ({
  objectUid: 'u1', observedGeneration: 2, containerId: 'c1', observedIp: '10.76.1.84', hostInterface: 'xvabc',
  conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', lastTransitionTime: '2026-12-06T10:00:05.000Z' }], ...over,
});
const reporter = (r: Record<string, unknown> | undefined) => ({ previousRun: () => r });
const container = { id: 'c1', startedAt: '2026-12-06T10:00:00.123456789Z' };
const now = { observedIp: '10.76.1.84', hostInterface: 'xvabc' };
const MADE: Op[] = [{ op: 'link.add.veth', name: 'xtabc', peer: 'xvabc' }, { op: 'link.set.up', name: 'xvabc' }];

describe('nicMadeAgain', () => {
  it('is true for the NIC\'s link made again in the run of the container its previous report says it was attached in', () => {
    expect(nicMadeAgain(reporter(report()), nic(), container, MADE, now)).toBe(true);
  });

  it('is false for anything else: no link made, a link deleted, no report, not Ready, another container or run, generation, address or host side', () => {
    expect(nicMadeAgain(reporter(report()), nic(), container, [{ op: 'addr.add', dev: 'eth1', cidr: '10.76.1.84/24' }], now)).toBe(false);
    expect(nicMadeAgain(reporter(report()), nic(), container, [{ op: 'link.del', name: 'eth1' }, ...MADE], now)).toBe(false);
    expect(nicMadeAgain(reporter(undefined), nic(), container, MADE, now)).toBe(false);
    expect(nicMadeAgain(reporter(report({ conditions: [{ type: 'Ready', status: 'Unknown', reason: 'Attaching', lastTransitionTime: '2026-12-06T10:00:05.000Z' }] })), nic(), container, MADE, now)).toBe(false);
    expect(nicMadeAgain(reporter(report({ containerId: 'c0' })), nic(), container, MADE, now)).toBe(false);
    // the container started (again) after the NIC was reported Ready in it: its start, not a drift
    expect(nicMadeAgain(reporter(report()), nic(), { ...container, startedAt: '2026-12-06T10:00:06Z' }, MADE, now)).toBe(false);
    expect(nicMadeAgain(reporter(report()), nic(3), container, MADE, now)).toBe(false);
    expect(nicMadeAgain(reporter(report()), nic(), container, MADE, { ...now, observedIp: '10.76.1.85' })).toBe(false);
    expect(nicMadeAgain(reporter(report()), nic(), container, MADE, { ...now, hostInterface: 'eth0' })).toBe(false);
  });
});

describe('routes at start-up', () => {
  it('routesPutBack: a replaced route that the record holds with the same next hop, not a new one or another next hop', () => {
    const before = { '10.76.2.0/24': '198.18.0.12' };
    expect(routesPutBack([{ op: 'route.replace', dst: '10.76.2.0/24', via: '198.18.0.12' }], before)).toBe(true);
    expect(routesPutBack([{ op: 'route.replace', dst: '10.76.2.0/24', via: '198.18.0.22' }], before)).toBe(false);
    expect(routesPutBack([{ op: 'route.replace', dst: '10.76.3.0/24', via: '198.18.0.13' }], before)).toBe(false);
    expect(routesPutBack([{ op: 'route.replace', dst: 'constructor', via: '198.18.0.13' }], {})).toBe(false);
  });

  it('routesAfter: the routes found with the pass\'s changes made; after a failure, what it touched is left out', () => {
    const found = { '10.76.2.0/24': '198.18.0.12', '10.76.4.0/24': '198.18.0.14' };
    const ops: Op[] = [{ op: 'route.replace', dst: '10.76.3.0/24', via: '198.18.0.13' }, { op: 'route.del', dst: '10.76.4.0/24', via: '198.18.0.14', proto: '76' }];
    expect(routesAfter(found, ops, true)).toEqual({ '10.76.2.0/24': '198.18.0.12', '10.76.3.0/24': '198.18.0.13' });
    expect(routesAfter(found, ops, false)).toEqual({ '10.76.2.0/24': '198.18.0.12' });
  });

  it('RoutesRecord: what the previous run wrote in this boot, read before this run writes; another boot or a bad file is empty', () => {
    const path = join(dir, 'routes.json');
    const warnings: string[] = [];
    const first = new RoutesRecord(path, (m) => warnings.push(m), () => 'boot-1');
    expect(first.previousRun()).toEqual({});
    first.update({ '10.76.2.0/24': '198.18.0.12' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, bootId: 'boot-1', routes: { '10.76.2.0/24': '198.18.0.12' } });
    const second = new RoutesRecord(path, (m) => warnings.push(m), () => 'boot-1');
    second.update({});
    expect(second.previousRun()).toEqual({ '10.76.2.0/24': '198.18.0.12' });
    expect(new RoutesRecord(path, (m) => warnings.push(m), () => 'boot-2').previousRun()).toEqual({});
    expect(warnings).toEqual([]);
    writeFileSync(path, '{"version":1,"bootId":"boot-1","routes":[1]}');
    expect(new RoutesRecord(path, (m) => warnings.push(m), () => 'boot-1').previousRun()).toEqual({});
    expect(warnings).toEqual([`${path}: not a routes record; routes put back at start-up are not told as healed`]);
  });
});
