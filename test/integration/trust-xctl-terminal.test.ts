// A node writes text that xctl prints on an admin's terminal: its NIC status (MAC, host
// interface, Ready's message), its events and its observed-state report. An escape sequence,
// a carriage return or a newline in them must not reach the terminal raw, or one node's
// credentials could erase or add rows of `xctl get`, `describe`, `get events` and `verify`
// (what a row says about another node, a fake "True"). Each shows as an escape in its cell.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runXctl } from '../../pkg/cli/program.js';
import { createEtcdStore } from '../../pkg/store/etcd-store.js';
import { Keys } from '../../pkg/store/keys.js';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { obj } from './helpers.js';

let etcd: TestEtcd;
const keys = new Keys();
/** erase the line, go back to its start, print a fake row */
const EVIL = 'ok\u001b[2K\rhost-9   True\nfake row\u009b31m\u0007';
const now = new Date().toISOString();

beforeAll(async () => {
  etcd = await startEtcd();
  const store = createEtcdStore(etcd.client(), '/xnet');
  await store.applyAll([obj('Node', 'host-7', {}), obj('Node', 'host-8', { address: '198.18.0.18' }), obj('ContainerNic', 'n1', { node: 'host-7', container: 'c', ifName: 'eth1', network: { clusterNetwork: 'default' } })]);
  await store.close();
  const c = etcd.client();
  // every value below is one host-7's certificate may write (docs/security.md, "Who writes what")
  await c.put(keys.status('ContainerNic', 'n1', { node: 'host-7' })).value(JSON.stringify({
    mac: `02:42:0a:4c:01:54${EVIL}`, hostInterface: `xv${EVIL}`,
    conditions: [{ type: 'Ready', status: 'True', reason: 'Converged', message: EVIL, lastTransitionTime: now }],
  }));
  await c.put(`${keys.nodeEvents('host-7')}containernics/n1/0000000000000001`).value(JSON.stringify({
    involvedObject: { kind: 'ContainerNic', name: 'n1' }, type: 'Normal', reason: 'Attached', message: EVIL,
    source: { component: 'agent', node: 'host-7' }, count: 1, firstTimestamp: now, lastTimestamp: now,
  }));
  // its report about itself, each field as large as it likes
  await c.put(keys.status('Node', 'host-7', { node: 'host-7' })).value(JSON.stringify({
    address: '1'.repeat(200_000), interface: 'i'.repeat(200_000), agentVersion: 'v'.repeat(200_000), lastHeartbeatTime: now,
  }));
  await c.put(keys.nodeObserved('host-7')).value(JSON.stringify({
    node: 'host-7', since: now, total: 1, differences: [{ host: 'host-7', what: 'route', expected: 'x', found: EVIL }],
  }));
});
afterAll(async () => { await etcd?.stop(); });

async function xctl(args: string[]): Promise<{ code: number; out: string }> {
  const r = { code: -1, out: '' };
  r.code = await runXctl(args, { out: (t) => { r.out += t; }, err: () => undefined, stdin: async () => '', env: { XCTL_ENDPOINTS: etcd.endpoints.join(',') } });
  return r;
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

describe('xctl prints what nodes wrote without its control characters', () => {
  it.each([
    [['get', 'nic', '-o', 'wide'], 2],
    [['get', 'events', '--for', 'nic/n1'], 2],
    [['verify', '--node', 'host-7'], 2],
  ])('%j: no raw control character, one line per row', async (args, lines) => {
    const r = await xctl(args as string[]);
    expect(r.out).not.toMatch(RAW_CONTROL);
    expect(r.out.trimEnd().split('\n')).toHaveLength(lines as number);
    expect(r.out).toContain('\\u001b[2K\\rhost-9   True\\nfake row\\u009b31m\\u0007');
  });

  it('get nodes: a node\'s huge report shows clipped, and every other row stays readable', async () => {
    for (const args of [['get', 'nodes'], ['get', 'nodes', '-o', 'wide']]) {
      const r = await xctl(args);
      expect(r.code).toBe(0);
      // each row was padded to the 200,000 characters of host-7's address
      for (const line of r.out.trimEnd().split('\n')) expect(line.length, args.join(' ')).toBeLessThan(800);
      expect(r.out).toMatch(/\nhost-8 +198\.18\.0\.18 +\S+ +\S+/);
      expect(r.out).toContain(`${'1'.repeat(100)}...`);
    }
  });

  it('describe: the conditions and events tables too', async () => {
    const r = await xctl(['describe', 'nic', 'n1']);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(RAW_CONTROL);
    expect(r.out).not.toContain('\nfake row');
  });
});
