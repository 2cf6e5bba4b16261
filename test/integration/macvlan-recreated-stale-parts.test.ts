// A MacvlanNet deleted without its finalizer (stored by an older xctl or a raw write) goes at
// once with its status key; its nodes' parts and its pool counts stay until the controller's
// garbage pass (controller/gc.ts). Applied again under the same name before that pass, the old
// part, whose pre-claimed addresses the controller may have freed, was joined for the new
// MacvlanNet as soon as a status key listed its node: that node's IPAM plugin could hand them
// out. Every reader takes a key of the MacvlanNet's status only when it was written after the
// MacvlanNet's key was created (store/macvlan-parts.ts writtenSinceMacvlanCreated). Real etcd; no controller:
// the keys are written as the controller writes them (the new status key as one from before
// this fix wrote it while the node's new part waited: from the part it found in the index).
import { describe, expect, it } from 'vitest';
import { NodeView } from '../../pkg/store/node-view.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import type { AnyObject } from '../../pkg/api/index.js';
import { obj, statusOf, macvlanEntryOf, useKeysFixture } from './controller-helpers.js';

const NODE = 'ra-a';
const SPEC = { subnet: '10.87.0.0/24', gateway: '10.87.0.1', dockerIPAM: 'xnet' };
/** what the first MacvlanNet pre-claimed for NODE */
const OLD = ['10.87.0.5', '10.87.0.6'];
const fx = useKeysFixture();

const stored = async (key: string) => (await fx.etcd.client().get(key).string()) !== null;
const entryOf = macvlanEntryOf;

/** The MacvlanNet `name` as each reader shows it: xctl get NAME, xctl get (a list), NODE's agent, xctl ipam check's text. */
async function readers(name: string): Promise<{ got?: AnyObject; listed?: AnyObject; agent?: AnyObject; ipam: string }> {
  const got = await fx.store.get('MacvlanNet', name);
  const listed = (await fx.store.list('MacvlanNet')).items.find((o) => o.metadata.name === name);
  const view = new NodeView(fx.etcd.client(), fx.store.keys, NODE);
  try {
    await view.start();
    const agent = (await view.list('MacvlanNet')).items.find((o) => o.metadata.name === name);
    return { got, listed, agent, ipam: (await ipamCheck(fx.etcd.client(), fx.prefix)).text };
  } finally { await view.close(); }
}

/** NODE's agent reports that its IPAM plugin gave OLD[0] to container web (pkg/agent/ipam-host.ts). */
const reportWeb = (name: string) => fx.store.writeStatus('MacvlanNet', name, { node: NODE }, {
  ready: true, message: 'ready', ipam: { assigned: [{ ip: OLD[0], name: 'web' }], returned: [], external: [], requested: [], want: 0 },
});
/** What xctl ipam check says of web's address when no part of NODE announces it. */
const unbacked = (name: string) => `MacvlanNet "${name}" ${OLD[0]} is used by container web on node ${NODE} but no claim of that node backs it`;

/** The first MacvlanNet `name`, stored without the finalizer, and its status keys as the controller writes them. */
async function firstOne(name: string): Promise<void> {
  const keys = fx.store.keys;
  await fx.store.create(obj('MacvlanNet', name, SPEC));
  await fx.put(keys.macvlanPart(NODE, name), { name: NODE, parent: 'eth0', shimAddress: '10.87.0.2', addresses: OLD, ready: true, message: 'ready' });
  await fx.put(keys.macvlanPool(name), { allocated: 3, free: 250 });
  await fx.put(keys.status('MacvlanNet', name, { controller: true }), { observedGeneration: 1, nodes: [{ name: NODE, shimAddress: '10.87.0.2' }] });
  await reportWeb(name);
  // whole before the delete: every reader shows the part, xctl get the counts (no agent reads them)
  const r = await readers(name);
  for (const o of [r.got, r.listed, r.agent]) expect(entryOf(o, NODE)?.addresses).toEqual(OLD);
  for (const o of [r.got, r.listed]) expect(statusOf(o).allocated).toBe(3);
  expect(r.ipam).toContain(`macvlannet/${name}`);
  expect(r.ipam).not.toContain(unbacked(name));
}

describe('a MacvlanNet deleted without its finalizer and applied again', () => {
  it("shows none of the old one's part and pool counts, in any reader, once a status key lists the node again", async () => {
    const keys = fx.store.keys;
    const name = 'again';
    await firstOne(name);
    await fx.store.delete('MacvlanNet', name);
    // gone at once with its status key; the part and the counts are left to the garbage pass
    expect(await fx.store.get('MacvlanNet', name)).toBeUndefined();
    expect(await stored(keys.status('MacvlanNet', name, { controller: true }))).toBe(false);
    expect(await stored(keys.macvlanPart(NODE, name))).toBe(true);
    expect(await stored(keys.macvlanPool(name))).toBe(true);

    await fx.store.applyAll([obj('MacvlanNet', name, SPEC)]);
    await fx.put(keys.status('MacvlanNet', name, { controller: true }), { observedGeneration: 1, nodes: [{ name: NODE, shimAddress: '10.87.0.2' }] });
    // the node's plugin gave web an old address (what the old part, joined, let it do)
    await reportWeb(name);
    const r = await readers(name);
    for (const [reader, o] of Object.entries({ 'xctl get NAME': r.got, 'xctl get': r.listed, "the node's agent": r.agent })) {
      expect(o?.metadata.uid, reader).not.toBeUndefined();
      expect(entryOf(o, NODE), reader).toEqual({ name: NODE, shimAddress: '10.87.0.2' });
      expect(statusOf(o).allocated, reader).toBeUndefined();
    }
    expect(r.ipam, 'xctl ipam check').toContain(unbacked(name));
  }, 60_000);

  it("shows no status while the status key is the old one's too (its object key deleted by hand)", async () => {
    const name = 'by-hand';
    await firstOne(name);
    await fx.etcd.client().delete().key(fx.store.keys.object('MacvlanNet', name));
    await fx.store.applyAll([obj('MacvlanNet', name, SPEC)]);
    const r = await readers(name);
    for (const [reader, o] of Object.entries({ 'xctl get NAME': r.got, 'xctl get': r.listed, "the node's agent": r.agent })) {
      expect(o?.metadata.uid, reader).not.toBeUndefined();
      expect(statusOf(o).nodes, reader).toBeUndefined();
    }
    expect(r.ipam, 'xctl ipam check').toContain(unbacked(name));
  }, 60_000);
});
