// Editing a hand-written HostSubnet's spec.subnet against a stock etcd (128 compares and 128
// ops per transaction, a key in at most one op): the edit lands or is refused with a reason,
// and a new node's HostSubnet planned in the same round is allocated either way.
import { describe, it, expect } from 'vitest';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { obj, eventually, statusOf, useControllerFixture, uniquePrefix, type Status } from './controller-helpers.js';

const prefix = uniquePrefix();
const fx = useControllerFixture(prefix, { addressCooldownMs: 0 });

const waitFor = (name: string, pred: (s: Status) => boolean, what: string) =>
  eventually(async () => { const s = statusOf(await fx.store.get('HostSubnet', name)); return pred(s) ? s : undefined; }, what);
const cond = (s: Status, type: string) => s.conditions?.find((c) => c.type === type);

/** The block claims of a ClusterNetwork: slot key suffix → the claim's cidr. */
async function blockClaims(cn: string): Promise<Record<string, string>> {
  const root = `${prefix}/ipam/clusternetworks/${cn}/blocks/`;
  const kvs = await fx.etcd.client().getAll().prefix(root).strings();
  return Object.fromEntries(Object.entries(kvs).map(([k, v]) => [k.slice(root.length), (JSON.parse(v) as { cidr: string }).cidr]));
}

async function expectNoIpamProblems(): Promise<void> {
  const report = await ipamCheck(fx.etcd.client(), prefix);
  expect(report.problems, report.text).toBe(0);
}

const pool = (name: string, cidr: string) =>
  obj('ClusterNetwork', name, { cidr, hostPrefix: 24, bridgePrefix: name.slice(0, 4), nodeSelector: { matchLabels: { pool: name } } });

/** ClusterNetwork `cn` (its own nodes: label pool=<cn>) with HostSubnet `<cn>-1` written by hand on `node`, allocated. */
async function handWritten(cn: string, cidr: string, node: string, subnet: string): Promise<void> {
  await fx.store.applyAll([
    pool(cn, cidr),
    obj('HostSubnet', `${cn}-1`, { node, clusterNetwork: cn, subnet }),
    obj('Node', node, {}, { pool: cn }),
  ]);
  await waitFor(`${cn}-1`, (s) => s.subnet === subnet, `${cn}-1 allocated`);
}

describe('re-subnetting a hand-written HostSubnet', () => {
  it('grows 10.60.2.0/24 to /23 (the slot it keeps changes its cidr) while a new node gets its block', async () => {
    await handWritten('grow', '10.60.0.0/16', 'host-g1', '10.60.2.0/24');
    await fx.store.applyAll([
      obj('HostSubnet', 'grow-1', { node: 'host-g1', clusterNetwork: 'grow', subnet: '10.60.2.0/23' }),
      obj('Node', 'host-g2', {}, { pool: 'grow' }),
    ]);
    const s = await waitFor('grow-1', (x) => x.subnet === '10.60.2.0/23' && x.observedGeneration === 2, 'grow-1 at 10.60.2.0/23');
    expect(cond(s, 'Allocated')?.status).toBe('True');
    await waitFor('grow-host-g2', (x) => x.subnet === '10.60.0.0/24', 'the new node allocated 10.60.0.0/24');
    expect(await blockClaims('grow')).toEqual({
      '010.060.000.000': '10.60.0.0/24',
      '010.060.002.000': '10.60.2.0/23',
      '010.060.003.000': '10.60.2.0/23',
    });
    await expectNoIpamProblems();
  });

  it('refuses moving a /18 to another /18 (one transaction cannot hold it) with a reason, keeps the old subnet, and takes the move in steps', async () => {
    await handWritten('wide', '10.64.0.0/16', 'host-w1', '10.64.0.0/18');
    const hs = (subnet: string) => obj('HostSubnet', 'wide-1', { node: 'host-w1', clusterNetwork: 'wide', subnet });
    await fx.store.applyAll([hs('10.64.128.0/18'), obj('Node', 'host-w2', {}, { pool: 'wide' })]);
    const refused = await waitFor('wide-1', (s) => cond(s, 'Ready')?.reason === 'SubnetChangeTooLarge', 'wide-1 refused with SubnetChangeTooLarge');
    expect(refused).toMatchObject({ subnet: '10.64.0.0/18', observedGeneration: 2 });
    expect(cond(refused, 'Allocated')).toMatchObject({ status: 'False', reason: 'SubnetChangeTooLarge' });
    expect(cond(refused, 'Ready')?.message).toContain('10.64.128.0/18');
    await waitFor('wide-host-w2', (x) => x.subnet === '10.64.64.0/24', 'the new node allocated 10.64.64.0/24');
    const held = await blockClaims('wide');
    expect(Object.keys(held)).toHaveLength(65);
    expect(Object.values(held).filter((c) => c === '10.64.0.0/18')).toHaveLength(64);
    await expectNoIpamProblems();

    // What the reason's message advises: shrink to one block, move it, grow it again.
    await fx.store.applyAll([hs('10.64.0.0/24')]);
    await waitFor('wide-1', (s) => s.subnet === '10.64.0.0/24' && cond(s, 'Allocated')?.status === 'True', 'wide-1 shrunk');
    await fx.store.applyAll([hs('10.64.128.0/24')]);
    await waitFor('wide-1', (s) => s.subnet === '10.64.128.0/24', 'wide-1 moved');
    await fx.store.applyAll([hs('10.64.128.0/18')]);
    await waitFor('wide-1', (s) => s.subnet === '10.64.128.0/18' && s.observedGeneration === 5, 'wide-1 grown at its new place');
    const after = await blockClaims('wide');
    expect(Object.keys(after)).toHaveLength(65);
    expect(after['010.064.064.000']).toBe('10.64.64.0/24');
    expect(Object.entries(after).filter(([k, c]) => k.startsWith('010.064.1') && c === '10.64.128.0/18')).toHaveLength(64);
    expect(after['010.064.000.000']).toBeUndefined();
    await expectNoIpamProblems();
  });
});
