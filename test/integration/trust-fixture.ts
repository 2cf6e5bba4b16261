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
import { startController } from './controller-helpers.js';

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
