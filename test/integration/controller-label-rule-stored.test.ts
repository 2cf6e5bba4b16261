// An object stored before the label-key rule (f2cbfa8) with a label the rule now refuses (a
// name part of 64 characters: the old schema capped only the whole key at 253) does not decode
// after an upgrade. Unreadable is not absent (docs/security.md): the controller keeps what it
// made for it; and whoever lists it (xctl get's `warning: skipped KEY: WHY`, the daemons' logs)
// is told which rule the key breaks, so the operator knows what to fix.
import { describe, expect, it } from 'vitest';
import { obj, eventually, statusOf, useControllerFixture, uniquePrefix } from './controller-helpers.js';
import { Keys } from '../../pkg/store/keys.js';
import type { Kind } from '../../pkg/api/index.js';
import { createLogger } from '../../pkg/log.js';

/** The controller's failed reconciles, by key: one that takes an unreadable key for a deleted one fails its guard and retries for ever. */
const failed: string[] = [];
const log = createLogger('controller', { id: 'label-rule' });
log.level = 'warn';
log.on('data', (i: { message?: string; key?: string }) => { if (i.message === 'reconcile failed; retrying' && i.key) failed.push(i.key); });

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { log });
const keys = new Keys(prefix);
const LONG = `xnet.io/${'n'.repeat(64)}`;

/** Writes the stored object back with a label the rule refuses, as an older xnet stored it. */
async function labelAroundTheRule(kind: Kind, name: string): Promise<string> {
  const key = keys.object(kind, name);
  const stored = JSON.parse(await fx.etcd.client().get(key).string() as string);
  stored.metadata.labels = { [LONG]: 'x' };
  await fx.etcd.client().put(key).value(JSON.stringify(stored));
  return key;
}

const subnetOf = async (cn: string, node: string) => {
  const hs = (await fx.store.list('HostSubnet')).items.find((h) => {
    const s = h.spec as { node: string; clusterNetwork: string };
    return s.node === node && s.clusterNetwork === cn;
  });
  return hs ? statusOf(hs).subnet as string | undefined : undefined;
};

describe('objects whose stored label the label-key rule now refuses', () => {
  it('a ClusterNetwork: its HostSubnets stay, and a list names the rule it breaks', async () => {
    await fx.store.applyAll([obj('ClusterNetwork', 'cn', { cidr: '10.81.0.0/16', hostPrefix: 24 }), obj('Node', 'n1', {})]);
    const before = await eventually(() => subnetOf('cn', 'n1'), 'n1 gets a HostSubnet', 15_000);
    const key = await labelAroundTheRule('ClusterNetwork', 'cn');
    const skipped = (await fx.store.list('ClusterNetwork')).skipped!;
    expect(skipped.map((s) => s.key)).toEqual([key]);
    expect(skipped[0].error).toBe(`metadata.labels[${LONG}]: invalid label key: the name (after any "/") has 64 characters, at most 63; ` +
      'a key is [prefix/]name: name of letters, digits, "-", "_" and ".", starting and ending with a letter or digit, at most 63 characters; ' +
      'prefix a DNS subdomain (lower-case letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit), at most 253 characters');
    // well past the controller's reaction to a change (well under a second here)
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await subnetOf('cn', 'n1')).toBe(before);
    // and it does not take it for deleted: no delete tried (and refused by its guard) over and over
    expect(failed).toEqual([]);
  }, 60_000);

  it('a Node: its HostSubnet stays', async () => {
    // (cn does not decode since the test above: a new Node gets nothing from it until it does)
    await fx.store.applyAll([obj('Node', 'n2', {}), obj('ClusterNetwork', 'cn2', { cidr: '10.82.0.0/16', hostPrefix: 24 })]);
    const kept = await eventually(() => subnetOf('cn2', 'n2'), 'n2 gets a HostSubnet of cn2', 15_000);
    const key = await labelAroundTheRule('Node', 'n2');
    expect((await fx.store.list('Node')).skipped!.map((s) => s.key)).toEqual([key]);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await subnetOf('cn2', 'n2')).toBe(kept);
    expect(failed).toEqual([]);
    // the way out docs/api.md gives: apply the object with the label mended, over the stored one
    await fx.store.applyAll([obj('Node', 'n2', {}, { 'xnet.io/short': 'x' })]);
    expect((await fx.store.list('Node')).skipped).toEqual([]);
    expect(await subnetOf('cn2', 'n2')).toBe(kept);
    // a delete of the key is a delete, readable or not: the Node's HostSubnet goes
    await labelAroundTheRule('Node', 'n2');
    await fx.etcd.client().delete().key(keys.object('Node', 'n2'));
    await eventually(async () => (await subnetOf('cn2', 'n2')) === undefined && (await fx.store.list('HostSubnet')).items.every((h) => (h.spec as { node: string }).node !== 'n2'), 'n2\'s HostSubnet deleted', 10_000);
  }, 60_000);
});
