// The lab's network: an underlay namespace holding one Linux bridge (the hosts' shared L2
// segment), and one namespace per host plugged into it with a veth pair. Everything is made
// inside namespaces the lab owns; the root namespace is never touched.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { checkLabId, labDirFor, newRecord, readRecord, updateRecord, writeRecord } from './record.js';
import { ipBatch, run } from './run.js';
import { makeToolsDir } from './tools.js';
import type { Lab, LabHost } from './types.js';

export const UNDERLAY_SUBNET = '198.18.0.0/24';
export const UNDERLAY_GATEWAY = '198.18.0.1';
export const UNDERLAY_PREFIX = 24;
const BRIDGE = 'br-underlay';
export const MAX_HOSTS = 200;

export function netnsPath(netns: string): string {
  return `/var/run/netns/${netns}`;
}

function labFromRecord(id: string, dir: string): Lab {
  return { id, dir, underlayNetns: `${id}-underlay`, bridge: BRIDGE, subnet: UNDERLAY_SUBNET, gateway: UNDERLAY_GATEWAY };
}

/** The host a lab has (or would have) at an index: names and addresses follow from it. */
export function hostFor(lab: Pick<Lab, 'id' | 'dir'>, index: number): LabHost {
  if (!Number.isInteger(index) || index < 1 || index > MAX_HOSTS) {
    throw new LabError('InvalidHostIndex', `host index ${index} is out of range`, `use 1..${MAX_HOSTS}`);
  }
  const name = `host-${index}`;
  const netns = `${lab.id}-${name}`;
  const dir = join(lab.dir, name);
  const dockerSocket = join(dir, 'docker.sock');
  return {
    name, index, netns, netnsPath: netnsPath(netns),
    address: `198.18.0.${10 + index}`, prefixLength: UNDERLAY_PREFIX, iface: 'eth0',
    dir, dockerSocket, dockerHost: `unix://${dockerSocket}`,
  };
}

async function addNetns(dir: string, name: string): Promise<void> {
  if (existsSync(netnsPath(name))) {
    throw new LabError('NamespaceExists', `network namespace ${name} already exists`, 'another lab with this id is up: take it down first (xctl lab down)');
  }
  // recorded first: if we die between the two, `down` still deletes it
  updateRecord(dir, (r) => { if (!r.netns.includes(name)) r.netns.push(name); });
  await run(['ip', 'netns', 'add', name]);
}

/**
 * Starts a lab: its directory, its record, and the underlay namespace with the bridge
 * 198.18.0.0/24 (the bridge holds .1, the hosts' default gateway, so an agent finds its
 * underlay interface the way it would on a real host: from the default route).
 */
export async function createUnderlay(labId: string, opts: { dir?: string } = {}): Promise<Lab> {
  checkLabId(labId);
  const dir = opts.dir ?? labDirFor(labId);
  const existing = readRecord(dir);
  if (existing && (existing.netns.length > 0 || existing.processes.length > 0)) {
    throw new LabError('LabExists', `a lab is already recorded in ${dir}`, 'take it down first (xctl lab down)');
  }
  const lab = labFromRecord(labId, dir);
  mkdirSync(dir, { recursive: true });
  const rec = newRecord(labId, dir);
  rec.underlay = { netns: lab.underlayNetns, bridge: lab.bridge, subnet: lab.subnet, gateway: lab.gateway };
  writeRecord(rec);
  await addNetns(dir, lab.underlayNetns);
  await ipBatch(lab.underlayNetns, [
    'link set lo up',
    `link add ${BRIDGE} type bridge`,
    `addr add ${UNDERLAY_GATEWAY}/${UNDERLAY_PREFIX} dev ${BRIDGE}`,
    `link set ${BRIDGE} up`,
  ]);
  await makeToolsDir(dir);
  return lab;
}

/** The lab recorded in a directory, for code that did not build it (xctl, tests' helpers). */
export function openLab(dir: string): Lab | undefined {
  const rec = readRecord(dir);
  return rec ? labFromRecord(rec.labId, rec.dir) : undefined;
}

/**
 * Adds host-<index>: a namespace whose eth0 (198.18.0.(10+index)/24, up, default route via
 * the underlay gateway) is one end of a veth pair; the other end is a port of the underlay
 * bridge. The Docker daemon is started separately (startDockerd).
 */
export async function createHost(lab: Lab, index: number): Promise<LabHost> {
  const host = hostFor(lab, index);
  updateRecord(lab.dir, (r) => {
    if (r.hosts.some((h) => h.name === host.name)) throw new LabError('HostExists', `${host.name} already exists in lab ${lab.id}`);
    r.hosts.push(host);
  });
  mkdirSync(host.dir, { recursive: true });
  await addNetns(lab.dir, host.netns);
  // made from inside the underlay namespace with the peer born in the host's: no link ever
  // exists in the root namespace, not even for a moment
  await ipBatch(lab.underlayNetns, [
    `link add ${host.name} type veth peer name ${host.iface} netns ${host.netns}`,
    `link set ${host.name} master ${lab.bridge}`,
    `link set ${host.name} up`,
  ]);
  await ipBatch(host.netns, [
    'link set lo up',
    `addr add ${host.address}/${host.prefixLength} dev ${host.iface}`,
    `link set ${host.iface} up`,
    `route add default via ${lab.gateway} dev ${host.iface}`,
  ]);
  return host;
}

/** The hosts recorded for a lab, in index order. */
export function labHosts(dir: string): LabHost[] {
  return [...(readRecord(dir)?.hosts ?? [])].sort((a, b) => a.index - b.index);
}
