// The etcd key layout (docs/design.md). Every key xnet writes is built here.
import { kindInfo, KINDS, type Kind } from '../api/kinds.js';
import type { StatusWriter } from './types.js';
export { prefixEnd } from '../etcd/range.js';

export const DEFAULT_PREFIX = '/xnet';

export class Keys {
  constructor(readonly prefix: string = DEFAULT_PREFIX) {}

  objects(kind?: Kind): string {
    return kind ? `${this.prefix}/registry/objects/${kindInfo(kind).plural}/` : `${this.prefix}/registry/objects/`;
  }
  object(kind: Kind, name: string): string {
    return this.objects(kind) + name;
  }
  /** Prefix of all status keys (controller and nodes). */
  statusRoot(): string {
    return `${this.prefix}/registry/status/`;
  }
  controllerStatuses(kind: Kind): string {
    return `${this.prefix}/registry/status/controller/${kindInfo(kind).plural}/`;
  }
  nodeStatuses(node?: string): string {
    return node ? `${this.prefix}/registry/status/nodes/${node}/` : `${this.prefix}/registry/status/nodes/`;
  }
  status(kind: Kind, name: string, writer: StatusWriter): string {
    return 'controller' in writer
      ? this.controllerStatuses(kind) + name
      : `${this.nodeStatuses(writer.node)}${kindInfo(kind).plural}/${name}`;
  }
  /** objects and status share this prefix so one watch sees their writes in commit order */
  registry(): string {
    return `${this.prefix}/registry/`;
  }
  ipam(): string {
    return `${this.prefix}/ipam/`;
  }
  nodeLease(node: string): string {
    return `${this.prefix}/leases/nodes/${node}`;
  }
  election(): string {
    return `${this.prefix}/election/controller`;
  }
  /** events a node reports about itself (only that node's credentials write here) */
  nodeEvents(node: string): string {
    return `${this.prefix}/events/nodes/${node}/`;
  }
  /** every event: outside registry/, so agents' registry watches never see them */
  events(): string {
    return `${this.prefix}/events/`;
  }
  /** events the controller reports */
  controllerEvents(): string {
    return `${this.prefix}/events/controller/`;
  }

  /** Classifies a key under /status/: which object and which writer it belongs to. */
  parseStatusKey(key: string): { kind: Kind; name: string; writer: StatusWriter } | undefined {
    const rest = key.startsWith(this.statusRoot()) ? key.slice(this.statusRoot().length).split('/') : [];
    let writer: StatusWriter;
    let plural: string, name: string;
    if (rest[0] === 'controller' && rest.length === 3) {
      writer = { controller: true };
      [, plural, name] = rest;
    } else if (rest[0] === 'nodes' && rest.length === 4) {
      writer = { node: rest[1] };
      [, , plural, name] = rest;
    } else return undefined;
    const info = KINDS.find((k) => k.plural === plural);
    return info ? { kind: info.kind, name, writer } : undefined;
  }

  parseObjectKey(key: string): { kind: Kind; name: string } | undefined {
    if (!key.startsWith(this.objects())) return undefined;
    const [plural, name, ...more] = key.slice(this.objects().length).split('/');
    const info = KINDS.find((k) => k.plural === plural);
    return info && name && more.length === 0 ? { kind: info.kind, name } : undefined;
  }
}
