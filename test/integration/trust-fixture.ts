// What the trust-* tests share: a real etcd with TLS and auth, a compromised node's client with
// only its own certificate (node-host-1), the admin's store, and the leader as xnet-controller,
// whose warning lines are kept when a test reads them as the operator would.
import { Writable } from 'node:stream';
import winston from 'winston';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll } from 'vitest';
import type { Controller } from '../../pkg/controller/controller.js';
import { createEtcdStore, type EtcdStore } from '../../pkg/store/index.js';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import { beat, eventually, obj, startController, statusOf } from './controller-helpers.js';

export interface HostileNodeFixture {
  etcd: TestEtcd;
  /** node-host-1's client: what a root attacker on host-1 holds */
  host1: Etcd3;
  admin: EtcdStore;
  c: Controller;
  /** the controller's log lines (warn and above), as written */
  lines: string[];
}

/** The controller's log, kept in `lines`: every warning line as the operator reads it. */
function recordingLog(lines: string[]): winston.Logger {
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return winston.createLogger({ level: 'warn', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
}

/** The fixture, made before the file's tests and stopped after them (etcd also when the controller's stop throws). */
export function useHostileNodeFixture(): HostileNodeFixture {
  const fx = { lines: [] as string[] } as HostileNodeFixture;
  beforeAll(async () => {
    fx.etcd = await startEtcd({ auth: true });
    fx.host1 = fx.etcd.auth!.clientAs(await fx.etcd.auth!.addNode('host-1'));
    fx.admin = createEtcdStore(fx.etcd.auth!.clientAs(fx.etcd.auth!.ids.admin));
    fx.c = await startController(fx.etcd.auth!.clientAs(fx.etcd.auth!.ids.controller), '/xnet', { log: recordingLog(fx.lines) });
  }, 60_000);
  afterAll(async () => { try { await fx.c?.stop(); } finally { await fx.etcd?.stop(); } });
  return fx;
}

/** A node's part of MacvlanNet `lan`'s status, as the trust tests read it. */
export type LanPart = { name: string; addresses?: string[]; shimAddress?: string; ready?: boolean; message?: string };

/** The parts of MacvlanNet `lan`'s status, as the admin reads them. */
export async function lanParts(fx: HostileNodeFixture): Promise<LanPart[]> {
  return (statusOf(await fx.admin.get('MacvlanNet', 'lan')).nodes as LanPart[] | undefined) ?? [];
}

/**
 * MacvlanNet `lan` (10.80.0.0/24, dockerIPAM xnet) on host-1 and host-2, both of whose parts
 * hold their 8 pre-claimed addresses: the state a compromised host-1 starts from.
 */
export async function twoNodeLan(fx: HostileNodeFixture, hostShim: boolean): Promise<LanPart[]> {
  await fx.admin.applyAll([
    obj('MacvlanNet', 'lan', { subnet: '10.80.0.0/24', dockerIPAM: 'xnet', hostShim, nodeSelector: { matchLabels: { lan: 'yes' } } }),
    obj('Node', 'host-1', { interface: 'eth0' }, { lan: 'yes' }), obj('Node', 'host-2', { interface: 'eth0' }, { lan: 'yes' }),
  ]);
  // their agents start, each with its own certificate: a node whose agent never reported gets no pre-claims
  await beat(createEtcdStore(fx.host1), 'host-1');
  await beat(createEtcdStore(fx.etcd.auth!.clientAs(await fx.etcd.auth!.addNode('host-2'))), 'host-2');
  return eventually(async () => { const p = await lanParts(fx); return p.length === 2 && p.every((n) => n.addresses?.length === 8) && p; }, 'both nodes pre-claim 8');
}
