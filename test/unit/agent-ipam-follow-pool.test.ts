// The agent's IPAM plugin follows the controller's list of this node's addresses. When the
// MacvlanNet's status lists no part for the node (its Node deleted, or no longer selected), the
// controller has freed them and may give them to another node's containers: the plugin hands
// none of them out, and one that comes back is probed again. Before, the book kept the old
// pool: a request there got a freed address, unprobed. Pure: a file journal in a temporary dir,
// the agent's caches as plain maps, no Docker or etcd.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentIpam } from '../../pkg/agent/ipam-host.js';
import type { NodeIpam } from '../../pkg/dockeripam/node-ipam.js';
import type { AgentContext } from '../../pkg/agent/context.js';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { createLogger } from '../../pkg/log.js';
import { arpProbes } from '../../pkg/metrics/metrics.js';
import { SELF } from '../../pkg/netlink/target.js';

const log = createLogger('agent');
log.level = 'error';
let dir: string | undefined;
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); dir = undefined; });

const mvn = (nodes: unknown[] | undefined): MacvlanNet => ({
  apiVersion: 'xnet.io/v1', kind: 'MacvlanNet', metadata: { name: 'm', uid: 'u1' },
  spec: { subnet: '10.9.0.0/24', ipRange: '10.9.0.128/25', parent: 'eth0' }, ...(nodes ? { status: { nodes } } : {}),
} as unknown as MacvlanNet);

/** An agent's context for node host-1 whose view holds `mvns` (none: etcd not read yet); its Docker has no networks. */
const contextWith = (mvns: MacvlanNet[], unreadable: string[] = []) => ({
  node: 'host-1', log, dp: { target: SELF, docker: { listNetworks: async () => [] } }, unreadable: () => unreadable,
  caches: { macvlanNets: new Map(mvns.map((m) => [m.metadata.name, m])), nodes: new Map() },
} as unknown as AgentContext);

/**
 * An AgentIpam of node host-1 whose book already serves MacvlanNet m with .130 and .131, and
 * whose etcd is not read (follow() never called): its probes wait for no parent.
 */
function following(unreadable: string[] = []) {
  dir = mkdtempSync(join(tmpdir(), 'xnet-follow-'));
  const ctx = contextWith([], unreadable);
  const ipam = new AgentIpam(ctx, { plugin: 'xnet', stateDir: dir, enqueue: () => {}, parentWaitMs: 0 });
  const book = ctx.ipam!.book!;
  book.setPool('m', [], { subnet: '10.9.0.0/24' });
  ipam.followPool(mvn([{ name: 'host-1', addresses: ['10.9.0.130', '10.9.0.131'] }]));
  expect(book.free('m')).toEqual(['10.9.0.130', '10.9.0.131']);
  return { ipam, book };
}

const unavailable = async () => (await arpProbes.get()).values.find((v) => v.labels.result === 'unavailable')?.value ?? 0;

/**
 * An arping on PATH (this namespace: nothing is sent) that says where it was asked to look,
 * in dir/looked, and that nobody answered. Returns the PATH to restore.
 */
function lookingArping(at: string): string | undefined {
  writeFileSync(join(at, 'arping'), `#!/bin/sh\necho "$@" >> ${at}/looked\nexit 0\n`);
  chmodSync(join(at, 'arping'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${at}:${path}`;
  return path;
}

describe('agent IPAM: following the controller\'s list of this node\'s addresses', () => {
  it('no part for this node (its Node deleted): none of its old addresses is handed out', () => {
    const { ipam, book } = following();
    book.markProbed('m', '10.9.0.130');
    ipam.followPool(mvn([{ name: 'host-2', addresses: ['10.9.0.140'] }]));
    expect(book.free('m')).toEqual([]);
    // back with the Node made again: looked at anew
    ipam.followPool(mvn([{ name: 'host-1', addresses: ['10.9.0.130'] }]));
    expect(book.free('m')).toEqual(['10.9.0.130']);
    expect(book.isProbed('m', '10.9.0.130')).toBe(false);
  });

  it('this Node\'s key does not decode: the pool stays', () => {
    const { ipam, book } = following(['host-1']);
    ipam.followPool(mvn([{ name: 'host-2', addresses: ['10.9.0.140'] }]));
    expect(book.free('m')).toEqual(['10.9.0.130', '10.9.0.131']);
  });

  it('the MacvlanNet has no status at all (its status key does not decode, read at start): the pool stays', () => {
    const { ipam, book } = following();
    ipam.followPool(mvn(undefined));
    expect(book.free('m')).toEqual(['10.9.0.130', '10.9.0.131']);
  });

  it('a MacvlanNet whose key does not decode proves nothing: the pool stays', () => {
    const { ipam, book } = following(['m']);
    ipam.followPool(mvn([{ name: 'host-2', addresses: ['10.9.0.140'] }]));
    expect(book.free('m')).toEqual(['10.9.0.130', '10.9.0.131']);
  });

  it('etcd not read within the bound, no parent known: a probe cannot look, counted as unavailable, nothing recorded', async () => {
    const before = await unavailable();
    const { book } = following(); // the pool's arrival starts the background pass
    await new Promise((r) => setTimeout(r, 20));
    expect(await unavailable()).toBe(before + 2);
    expect(book.isProbed('m', '10.9.0.130')).toBe(false);
  });

  it('at start, before etcd is read, probes on the parent the last agent journalled', async () => {
    dir = mkdtempSync(join(tmpdir(), 'xnet-follow-'));
    const path = lookingArping(dir);
    try {
      const m = mvn([{ name: 'host-1', addresses: ['10.9.0.130'] }]);
      const firstCtx = contextWith([m]);
      const first = new AgentIpam(firstCtx, { plugin: 'xnet', stateDir: dir, enqueue: () => {} });
      firstCtx.ipam!.book!.setPool('m', [], { subnet: '10.9.0.0/24' });
      first.followPool(m);
      await new Promise((r) => setTimeout(r, 200)); // its background pass looked
      rmSync(join(dir, 'looked'), { force: true });
      const next = new AgentIpam(contextWith([]), { plugin: 'xnet', stateDir: dir, enqueue: () => {} });
      await (next as unknown as { nodeIpam: { warm(m: string): Promise<void> } }).nodeIpam.warm('m');
    } finally { process.env.PATH = path; }
    expect(readFileSync(join(dir, 'looked'), 'utf8')).toMatch(/-I eth0 10\.9\.0\.130/);
  });

  // An agent before parents were journalled left a journal naming none: at the first start
  // after it, a docker run before etcd was read got an address unprobed.
  it('at start, a journal naming no parent: a request waits for the first read of etcd and probes on the parent it names', async () => {
    dir = mkdtempSync(join(tmpdir(), 'xnet-follow-'));
    const path = lookingArping(dir);
    try {
      const before = await unavailable();
      const ctx = contextWith([]);
      const ipam = new AgentIpam(ctx, { plugin: 'xnet', stateDir: dir, enqueue: () => {} });
      ctx.ipam!.book!.setPool('m', ['10.9.0.130'], { subnet: '10.9.0.0/24' }); // as the journal had it
      const request = (ipam as unknown as { nodeIpam: NodeIpam }).nodeIpam.requestAddress({ PoolID: 'm' });
      await new Promise((r) => setTimeout(r, 50));
      // the agent reads etcd: the MacvlanNet, and with it its parent, is in view
      const m = mvn([{ name: 'host-1', addresses: ['10.9.0.130'] }]);
      (ctx.caches.macvlanNets as unknown as Map<string, MacvlanNet>).set('m', m);
      ipam.follow({ addHandler(h) { h.onAdd?.(m); return this as never; } });
      expect(await request).toBe('10.9.0.130/24');
      expect(readFileSync(join(dir, 'looked'), 'utf8')).toMatch(/-I eth0 10\.9\.0\.130/);
      expect(await unavailable()).toBe(before);
      expect(ctx.ipam!.book!.parentOf('m')).toBe('eth0'); // journalled for the next start
    } finally { process.env.PATH = path; }
  });

  it('a probe waiting for that read when the plugin stops does not look', async () => {
    dir = mkdtempSync(join(tmpdir(), 'xnet-follow-'));
    const path = lookingArping(dir);
    try {
      const ctx = contextWith([]);
      const ipam = new AgentIpam(ctx, { plugin: 'xnet', stateDir: dir, pluginDir: dir, enqueue: () => {} });
      const close = await ipam.serve();
      ctx.ipam!.book!.setPool('m', ['10.9.0.130'], { subnet: '10.9.0.0/24' }); // its background probe waits
      await new Promise((r) => setTimeout(r, 20));
      (ctx.caches.macvlanNets as unknown as Map<string, MacvlanNet>).set('m', mvn([{ name: 'host-1', addresses: ['10.9.0.130'] }]));
      await close();
      await new Promise((r) => setTimeout(r, 100));
    } finally { process.env.PATH = path; }
    expect(existsSync(join(dir, 'looked'))).toBe(false);
  });
});
