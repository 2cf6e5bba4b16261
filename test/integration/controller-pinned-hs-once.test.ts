// Seed 000 applied as `xctl apply` writes it (ClusterNetwork, Nodes and their pinned HostSubnets
// in one transaction): the controller allocates each HostSubnet without a failed reconcile.
// Before, a Node's reconcile and the HostSubnet's own both planned the same HostSubnet into one
// transaction; the second failed ("transaction plan writes .../hostsubnets/default-host-1 twice")
// and a warning reached the controller's log at every `xctl apply` of the seed.
import { Writable } from 'node:stream';
import winston from 'winston';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import { obj, startController, eventually, storeFor, uniquePrefix, statusOf } from './controller-helpers.js';

let etcd: TestEtcd;
let c: Controller | undefined;
const warnings: string[] = [];

/** The controller's log, kept: every warning line as the operator would read it. */
function recordingLog(): winston.Logger {
  const stream = new Writable({ write(chunk, _enc, done) { warnings.push(String(chunk)); done(); } });
  return winston.createLogger({ level: 'warn', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
}

beforeAll(async () => { etcd = await startEtcd(); });
// etcd is stopped also when stopping the controller throws
afterAll(async () => { try { await c?.stop(); } finally { await etcd?.stop(); } });

describe('pinned HostSubnets applied with their Nodes', () => {
  it('are allocated with no reconcile failure in the controller log', async () => {
    const prefix = uniquePrefix();
    const store = storeFor(etcd.client(), prefix);
    c = await startController(etcd.client(), prefix, { log: recordingLog() });
    for (let round = 0; round < 3; round++) {
      const cn = `seed${round}`;
      await store.applyAll([
        obj('ClusterNetwork', cn, { cidr: `10.${70 + round}.0.0/16`, hostPrefix: 24, bridgePrefix: `b${round}` }),
        obj('Node', `h${round}-1`, { address: `198.18.${round}.11` }),
        obj('Node', `h${round}-2`, { address: `198.18.${round}.12` }),
        obj('HostSubnet', `${cn}-h${round}-1`, { node: `h${round}-1`, clusterNetwork: cn, subnet: `10.${70 + round}.1.0/24`, bridge: `b${round}1` }),
        obj('HostSubnet', `${cn}-h${round}-2`, { node: `h${round}-2`, clusterNetwork: cn, subnet: `10.${70 + round}.2.0/24`, bridge: `b${round}2` }),
      ]);
      for (const n of [1, 2]) {
        const hs = await eventually(async () => {
          const o = await store.get('HostSubnet', `${cn}-h${round}-${n}`);
          return statusOf(o).subnet ? o : undefined;
        }, `HostSubnet ${cn}-h${round}-${n} allocated`);
        expect(statusOf(hs)).toMatchObject({ subnet: `10.${70 + round}.${n}.0/24`, nodeAddress: `198.18.${round}.1${n}` });
      }
    }
    expect(warnings.filter((w) => w.includes('reconcile failed'))).toEqual([]);
  });
});
