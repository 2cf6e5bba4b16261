// A real etcd and the real controller for tests of MacvlanNet node parts (the controller's
// status.nodes[]), with each node's report written as its agent writes it. Shared by
// controller-macvlan-limits and controller-macvlan-fair; registers the calling file's hooks.
import { afterAll, beforeAll, expect } from 'vitest';
import { startEtcd, type TestEtcd } from '../harness/etcd.js';
import type { Controller } from '../../pkg/controller/controller.js';
import type { ControllerOptions } from '../../pkg/controller/options.js';
import type { EtcdStore } from '../../pkg/store/index.js';
import { ipamCheck } from '../../pkg/ipam/check.js';
import { IpamKeys } from '../../pkg/ipam/keys.js';
import type { NodeIpamReport } from '../../pkg/dockeripam/report.js';
import { beat, obj, startController, storeFor, uniquePrefix, statusOf } from './controller-helpers.js';
import { eventually } from './helpers.js';

export type NodePart = { name: string; dockerRange?: string; shimAddress?: string; addresses?: string[]; maxFree?: number; giveBack?: string[]; external?: string[]; refusedRequests?: Array<{ ip: string; reason: string }>; usedUp?: boolean; poolUsedUp?: string; ready?: boolean; message?: string };
export type AddressClaim = { ip: string; node?: string; role: string };

export class MacvlanParts {
  etcd!: TestEtcd;
  store!: EtcdStore;
  readonly prefix = uniquePrefix();
  private controller?: Controller;
  /** nodes whose report about themselves report() wrote */
  private readonly beaten = new Set<string>();

  constructor(private readonly options: Partial<ControllerOptions> = {}) {}

  async startController(): Promise<void> { this.controller = await startController(this.etcd.client(), this.prefix, this.options); }
  async stopController(): Promise<void> { await this.controller?.stop(); this.controller = undefined; }
  /** how many terms the running controller has led (a wake test expects one: expectOneTerm) */
  termsLed = (): number => this.controller?.termsLed ?? 0;

  /** MacvlanNet `name` selecting the nodes labelled `<label>: yes`, and those nodes (interface eth0). */
  async segment(name: string, spec: Record<string, unknown>, label: string, nodes: string[]): Promise<void> {
    await this.store.applyAll([obj('MacvlanNet', name, { ...spec, nodeSelector: { matchLabels: { [label]: 'yes' } } }), ...this.nodes(label, nodes)]);
  }

  /** More nodes labelled `<label>: yes`. */
  async join(label: string, nodes: string[]): Promise<void> { await this.store.applyAll(this.nodes(label, nodes)); }

  private nodes(label: string, names: string[]) { return names.map((n) => obj('Node', n, { interface: 'eth0' }, { [label]: 'yes' })); }

  // arrow properties: a test may take them out of the fixture (`const { parts } = fx`)
  parts = async (mvn: string): Promise<NodePart[]> => (statusOf(await this.store.get('MacvlanNet', mvn)).nodes as NodePart[] | undefined) ?? [];
  partOf = async (mvn: string, node: string): Promise<NodePart | undefined> => (await this.parts(mvn)).find((n) => n.name === node);
  /** Waits until the node's part of the MacvlanNet says `message`; the last part seen in the timeout's error. */
  partSays = (mvn: string, node: string, message: string): Promise<NodePart> => eventually(async () => {
    const p = await this.partOf(mvn, node);
    if (p?.message !== message) throw new Error(`its part says ${JSON.stringify(p)}`);
    return p;
  }, `${node}'s part saying "${message}"`);
  ready = async (mvn: string) => statusOf(await this.store.get('MacvlanNet', mvn)).conditions?.find((x) => x.type === 'Ready');

  /**
   * What the node's agent writes (pkg/agent/ipam-host.ts: `ipam: book.report(mvn)`), after its
   * report about itself (heartbeat.ts: an agent beats before it reports on objects) the first time.
   */
  report = async (mvn: string, node: string, ipam: Partial<NodeIpamReport>): Promise<void> => {
    if (!this.beaten.has(node)) {
      this.beaten.add(node);
      await beat(this.store, node);
    }
    await this.store.writeStatus('MacvlanNet', mvn, { node }, { ready: true, message: 'ready', ipam: { assigned: [], returned: [], external: [], requested: [], want: 0, ...ipam } });
  };

  /** The lowest address `node` holds at hand on `mvn`, once it holds one; its agent reports first, as a started agent does. */
  firstAtHand = async (mvn: string, node: string): Promise<string> => {
    await this.report(mvn, node, {});
    const p = await eventually(async () => { const q = await this.partOf(mvn, node); return q?.addresses?.length ? q : undefined; }, `${node} holds addresses at hand`);
    return p.addresses![0];
  };

  /**
   * The nodes' agents start: each writes its report about itself (heartbeat.ts), as report()
   * does the first time. A Node whose agent never reported gets no pre-claimed addresses.
   */
  beat = async (nodes: string[]): Promise<void> => {
    for (const node of nodes) {
      this.beaten.add(node);
      await beat(this.store, node);
    }
  };

  /** The MacvlanNet's address claims in etcd, by address. */
  claimed = async (mvn: string): Promise<Map<string, AddressClaim>> => {
    const kvs = await this.etcd.client().getAll().prefix(new IpamKeys(this.prefix).space('macvlannets', mvn, 'addresses')).strings();
    return new Map(Object.values(kvs).map((v) => JSON.parse(v) as AddressClaim).map((cl) => [cl.ip, cl]));
  };

  /** `xctl ipam check` finds no problem. */
  async expectClean(): Promise<void> {
    const check = await ipamCheck(this.etcd.client(), this.prefix);
    expect(check.problems, check.text).toBe(0);
  }
}

export function useMacvlanParts(options: Partial<ControllerOptions> = {}): MacvlanParts {
  const fx = new MacvlanParts(options);
  beforeAll(async () => {
    fx.etcd = await startEtcd();
    fx.store = storeFor(fx.etcd.client(), fx.prefix);
    await fx.startController();
  });
  afterAll(async () => {
    await fx.stopController();
    await fx.etcd?.stop();
  });
  return fx;
}
