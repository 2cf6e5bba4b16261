// kubectl's selections for delete and wait: `-l k=v` (objects whose labels match) and `--all`
// (every object of the kinds), `delete --wait` (until the finalizers are done) and
// `wait --for jsonpath=...`. Against a real etcd, in-process through runXctl; no controller
// runs, so a ContainerNic deleted keeps its finalizer until the test takes it off as the
// controller would.
import { beforeEach, describe, expect, it } from 'vitest';
import { xctlInProcess } from '../harness/xctl-in-process.js';
import { Keys } from '../../pkg/store/keys.js';
import { beforeEveryClientsTxn } from '../harness/two-writers.js';

const lab = xctlInProcess('xnet-select');

const V = 'apiVersion: xnet.io/v1alpha1';
const CN = `${V}\nkind: ClusterNetwork\nmetadata: {name: default}\nspec: {cidr: 10.77.0.0/16, hostPrefix: 24, dockerNetwork: sel1}\n`;
const nic = (name: string, app: string, stage = 'start') =>
  `${V}\nkind: ContainerNic\nmetadata: {name: ${name}, labels: {app: ${app}, stage: ${stage}}}\nspec: {node: host-1, container: ${name}, ifName: eth1, network: {clusterNetwork: default}}\n`;

const xctl = (args: string[], stdin = '') => lab.xctl(args, { stdin });

/** What the controller does once a deleted NIC's address is released: its finalizer off, so it goes. */
async function finalizeAll(): Promise<void> {
  for (const o of (await lab.store.list('ContainerNic')).items) {
    if (o.metadata.deletionTimestamp) await lab.store.update({ ...o, metadata: { ...o.metadata, finalizers: [] } });
  }
}

const names = async () => (await lab.store.list('ContainerNic')).items.map((o) => `${o.metadata.name}${o.metadata.deletionTimestamp ? ' (deleting)' : ''}`).sort();

/** Whether an etcd transaction reads `key` (a range in its success branch). */
const reads = (req: unknown, key: string) => ((req as { success?: Array<{ request_range?: { key?: Buffer } }> }).success ?? []).some((op) => op.request_range?.key?.toString() === key);

/**
 * Runs xctl `args` while, right before the first of its transactions that reads `at`, object
 * `key` is deleted and made again under its name (one put of its value with another uid,
 * `remade-uid`); returns xctl's result once it is certain the remake happened.
 */
async function xctlWithRemade(args: string[], at: string, key = at): Promise<Awaited<ReturnType<typeof xctl>>> {
  const old = JSON.parse((await lab.etcd.client().get(key).string())!);
  let remade = false;
  const undo = beforeEveryClientsTxn(async (req) => {
    if (remade || !reads(req, at)) return;
    remade = true;
    await lab.etcd.client().put(key).value(JSON.stringify({ ...old, metadata: { ...old.metadata, uid: 'remade-uid' } }));
  });
  try {
    const r = await xctl(args);
    expect(remade).toBe(true);
    return r;
  } finally {
    undo();
  }
}

beforeEach(async () => {
  await finalizeAll();
  await xctl(['delete', 'nic', '--all']);
  await finalizeAll();
  expect(await names()).toEqual([]);
  expect((await xctl(['apply', '-f', '-'], [CN, nic('web-1', 'web'), nic('web-2', 'web'), nic('db-1', 'db')].join('---\n'))).code).toBe(0);
});

describe('delete -l and --all', () => {
  it('-l deletes the objects whose labels match, and only those', async () => {
    const r = await xctl(['delete', 'nic', '-l', 'app=web']);
    expect(r).toMatchObject({ code: 0, out: 'containernic/web-1 deleted\ncontainernic/web-2 deleted\n' });
    expect(await names()).toEqual(['db-1', 'web-1 (deleting)', 'web-2 (deleting)']);
  });

  it('a selector that matches nothing deletes nothing and says so, exit 0 (kubectl\'s "No resources found")', async () => {
    expect(await xctl(['delete', 'nic', '-l', 'app=nope'])).toEqual({ code: 0, out: '', err: 'No resources found\n' });
    expect(await names()).toEqual(['db-1', 'web-1', 'web-2']);
  });

  it('--all deletes every object of the kinds given, and no other kind', async () => {
    const r = await xctl(['delete', 'nic', '--all']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter(Boolean)).toHaveLength(3);
    expect(await names()).toEqual(['db-1 (deleting)', 'web-1 (deleting)', 'web-2 (deleting)']);
    expect(await lab.store.get('ClusterNetwork', 'default')).toBeDefined();
  });

  it.each([
    [['delete', 'nic', 'web-1', '-l', 'app=web'], 'give NAMEs or a label selector (-l), not both'],
    [['delete', 'nic/web-1', '--all'], 'give NAMEs or --all, not both'],
    [['delete', '-l', 'app=web'], 'a label selector (-l) selects objects of a KIND: e.g. xctl delete nic -l app=web'],
    [['delete', 'nic', '--all', '-l', 'app=web'], 'give --all or a label selector (-l), not both'],
    [['delete', '-f', '-', '--all'], 'give -f or --all, not both'],
    [['delete', 'nic', 'web-1', '--timeout', '5s'], '--timeout is for --wait'],
    [['delete', 'nic', 'web-1', '--wait', '--timeout', '2x'], 'invalid duration "2x"'],
    [['delete', 'nic', 'web-1', '--wait', '--timeout', '30d'], 'invalid duration "30d"'],
  ])('refuses %j before anything is deleted, exit 2', async (args, message) => {
    const r = await xctl(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(await names()).toEqual(['db-1', 'web-1', 'web-2']);
  });
});

describe('delete of a selection with a network in it', () => {
  it('a selected NIC deleted and made again on the network since is left alone, so the network is in use: refused, exit 3', async () => {
    // once the selection is listed and the in-use check has read the NICs, at its read of the
    // network: web-1 deleted and made again on it
    const r = await xctlWithRemade(['delete', 'cn,nic', '--all'], new Keys().object('ClusterNetwork', 'default'), new Keys().object('ContainerNic', 'web-1'));
    // the delete leaves the new web-1 alone (not the one selected): deleting the network under it
    // would take its address, which needs --force
    expect(r.code).toBe(3);
    expect(r.err).toContain('clusternetwork/default is in use by 1 ContainerNic (web-1)');
    expect(r.err).toContain('nothing was deleted');
    expect(await lab.store.get('ClusterNetwork', 'default')).toMatchObject({ metadata: { name: 'default' } });
    expect((await lab.store.get('ClusterNetwork', 'default'))?.metadata.deletionTimestamp).toBeUndefined();
    expect(await names()).toEqual(['db-1', 'web-1', 'web-2']);
  });

  it('a selected network deleted and made again since is left alone, and not refused as in use', async () => {
    // after the selection listed it, before the in-use check reads it: deleted and made again
    const r = await xctlWithRemade(['delete', 'cn', '--all'], new Keys().object('ClusterNetwork', 'default'));
    // what the selection listed is gone, as a selection's object deleted since: no error
    expect(r).toEqual({ code: 0, out: '', err: '' });
    expect((await lab.store.get('ClusterNetwork', 'default'))?.metadata).toMatchObject({ uid: 'remade-uid' });
    expect((await lab.store.get('ClusterNetwork', 'default'))?.metadata.deletionTimestamp).toBeUndefined();
  });
});

describe('delete --wait', () => {
  it('returns once the objects are gone, their finalizers done', async () => {
    let returned = false;
    // --wait before the KIND: a boolean flag alone does not take the next word as its value
    const waiting = xctl(['delete', '--wait', 'nic', '-l', 'app=web', '--timeout', '20s']).finally(() => { returned = true; });
    for (let i = 0; i < 100 && !(await names()).includes('web-1 (deleting)'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await names()).toEqual(['db-1', 'web-1 (deleting)', 'web-2 (deleting)']);
    await new Promise((r) => setTimeout(r, 300));
    expect(returned).toBe(false);
    await finalizeAll();
    expect(await waiting).toMatchObject({ code: 0, out: 'containernic/web-1 deleted\ncontainernic/web-2 deleted\n' });
  });

  it('times out naming the finalizers each object still waits for, exit 1', async () => {
    const r = await xctl(['delete', 'nic', 'web-1', '--wait', '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('containernic/web-1 deleted\n');
    expect(r.err).toMatch(/timed out after 1s waiting for containernic\/web-1 to reach deletion; it still exists, being deleted since \S+, waiting for finalizers xnet\.io\/address-in-use/);
  });

  it('an object made again under the name (another uid) does not hold the wait: the one deleted is gone', async () => {
    const waiting = xctl(['delete', 'nic', 'web-2', '--wait', '--timeout', '10s']);
    const key = new Keys().object('ContainerNic', 'web-2');
    let raw: string | undefined;
    for (let i = 0; i < 100; i++) {
      raw = await lab.etcd.client().get(key).string() ?? undefined;
      if (raw && JSON.parse(raw).metadata.deletionTimestamp) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const old = JSON.parse(raw!);
    expect(old.metadata.deletionTimestamp).toBeDefined();
    // what a controller that removes the finalizer and makes the object again at once leaves: one put, a new uid
    const again = { ...old, metadata: { ...old.metadata, uid: 'remade-uid', deletionTimestamp: undefined, finalizers: [] } };
    await lab.etcd.client().put(key).value(JSON.stringify(again));
    expect((await lab.store.get('ContainerNic', 'web-2'))?.metadata.uid).toBe('remade-uid');
    expect(await waiting).toMatchObject({ code: 0, out: 'containernic/web-2 deleted\n' });
  });

  it('an object deleted and made again between the selection and the delete is not deleted, and the wait is for the one selected', async () => {
    // right before the delete reads web-1 to write it (after -l listed it): deleted and made again
    const r = await xctlWithRemade(['delete', 'nic', '-l', 'app=web', '--wait', '--timeout', '1s'], new Keys().object('ContainerNic', 'web-1'));
    // the one selected is gone (not found: no error for a selection); the one made after the selection is left alone
    expect(r.out).toBe('containernic/web-2 deleted\n');
    expect(await names()).toEqual(['db-1', 'web-1', 'web-2 (deleting)']);
    expect((await lab.store.get('ContainerNic', 'web-1'))?.metadata.uid).toBe('remade-uid');
    // the wait is for web-2, which it deleted, and nothing else
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: timed out after 1s waiting for containernic\/web-2 to reach deletion; it still exists, being deleted since \S+, waiting for finalizers xnet\.io\/address-in-use\n$/);
  });

  it('--wait of a NAME made again under it between reads waits for the incarnation it deleted', async () => {
    const key = new Keys().object('ContainerNic', 'web-1');
    const old = JSON.parse((await lab.etcd.client().get(key).string())!);
    let made = 0;
    // before every read of web-1 until it is marked: a delete of it and a create under its name,
    // one put with another uid, so that no read before the delete's own names what it deletes
    const undo = beforeEveryClientsTxn(async (req) => {
      if (!reads(req, key)) return;
      if (JSON.parse((await lab.etcd.client().get(key).string())!).metadata.deletionTimestamp) return;
      await lab.etcd.client().put(key).value(JSON.stringify({ ...old, metadata: { ...old.metadata, uid: `remade-${++made}` } }));
    });
    let r;
    try {
      r = await xctl(['delete', 'nic', 'web-1', '--wait', '--timeout', '1s']);
    } finally {
      undo();
    }
    expect((await lab.store.get('ContainerNic', 'web-1'))?.metadata).toMatchObject({ uid: `remade-${made}`, deletionTimestamp: expect.any(String) });
    // the one it marked is still there: the wait is for it, not for an incarnation read before
    expect(r.out).toBe('containernic/web-1 deleted\n');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: timed out after 1s waiting for containernic\/web-1 to reach deletion; it still exists, being deleted since \S+/);
  });

  it('--wait=false returns at once', async () => {
    expect(await xctl(['delete', 'nic', 'web-1', '--wait=false'])).toMatchObject({ code: 0, out: 'containernic/web-1 deleted\n' });
  });
});

describe('wait -l, --all and --for jsonpath', () => {
  it('waits for every object the selector matches, each printed as it meets the goal', async () => {
    const waiting = xctl(['wait', 'nic', '-l', 'app=web', '--for', 'jsonpath={.metadata.labels.stage}=done', '--timeout', '20s']);
    await new Promise((r) => setTimeout(r, 300));
    await xctl(['apply', '-f', '-'], nic('web-1', 'web', 'done'));
    await new Promise((r) => setTimeout(r, 300));
    await xctl(['apply', '-f', '-'], nic('web-2', 'web', 'done'));
    const r = await waiting;
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe('containernic/web-1 condition met ({.metadata.labels.stage}=done)\ncontainernic/web-2 condition met ({.metadata.labels.stage}=done)\n');
  });

  it('a jsonpath goal not met says what the template printed; --all waits for every object of the kind', async () => {
    const r = await xctl(['wait', 'nic', '--all', '--for', "jsonpath={.spec.container}=db-1", '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('containernic/db-1 condition met ({.spec.container}=db-1)\n');
    expect(r.err).toContain('timed out after 1s waiting for containernic/web-1 to reach jsonpath {.spec.container}=db-1; {.spec.container} is "web-1"');
    expect(r.err).toContain('containernic/web-2');
  });

  it('a selector that matches nothing is an error, exit 1, as kubectl\'s "no matching resources found"', async () => {
    expect(await xctl(['wait', 'nic', '-l', 'app=nope', '--timeout', '1s'])).toEqual({ code: 1, out: '', err: 'error: no matching resources found\n' });
  });

  it('a template that does not parse is a usage error before etcd is read, exit 2', async () => {
    const r = await xctl(['wait', 'nic', '--all', '--for', 'jsonpath={.spec.container']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('invalid --for jsonpath={.spec.container');
  });
});

describe('describe by name prefix and -l, as kubectl describes', () => {
  const described = (out: string) => [...out.matchAll(/^Name: +(\S+)$/gm)].map((m) => m[1]);

  it('a NAME no object has describes every object whose name begins with it', async () => {
    const r = await xctl(['describe', 'nic', 'web']);
    expect(r.code).toBe(0);
    expect(described(r.out)).toEqual(['web-1', 'web-2']);
  });

  it('an exact name describes that object only, and a prefix of none is not found, exit 4', async () => {
    expect(described((await xctl(['describe', 'nic', 'web-1'])).out)).toEqual(['web-1']);
    const r = await xctl(['describe', 'nic', 'db-1', 'zz']);
    expect(r.code).toBe(4);
    expect(described(r.out)).toEqual(['db-1']);
    expect(r.err).toBe('error: ContainerNic "zz" not found\n');
  });

  it('-l describes the objects whose labels match; with a NAME it is a usage error', async () => {
    expect(described((await xctl(['describe', 'nic', '-l', 'app=db'])).out)).toEqual(['db-1']);
    expect(await xctl(['describe', 'nic', '-l', 'app=nope'])).toMatchObject({ code: 0, out: '', err: 'No containernics found.\n' });
    expect(await xctl(['describe', 'nic', 'web', '-l', 'app=web'])).toMatchObject({ code: 2 });
  });
});
