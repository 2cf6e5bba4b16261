// dockerIPAM xnet: a node's agent probes an address with ARP before a container gets it; one
// that answers is used by someone outside xnet, and the controller marks it `external`
// (status.external): handed to no one until that node's agent, probing it again after a
// quarantine, finds nobody answering (macvlan-unmark.ts), or the Node goes. Only the status
// said so; the events say it where `xctl get events` and `describe` look, with what to do.
import type { EventRecorder } from '../events/recorder.js';
import type { InvolvedObject } from '../events/types.js';
import { firstFew } from '../first-few.js';
import type { AddressConflict } from '../ipam/address-conflicts.js';
import { tellConflicts } from './macvlan-conflicts.js';

type Marks = ReadonlyArray<{ ip: string; node: string }>;

/** `198.19.200.140 answered an ARP probe of node host-1`, grouped by node. */
function byNode(marks: Marks, what: string): string {
  const nodes = new Map<string, string[]>();
  for (const m of marks) nodes.set(m.node, [...nodes.get(m.node) ?? [], m.ip]);
  return [...nodes].map(([node, ips]) => `${firstFew(ips, 5)} ${what} ${node}`).join('; ');
}

/** `198.19.200.140 answered an ARP probe of node host-1: ...`, for the addresses a round marked. */
export function externalMessage(marked: Marks): string {
  return `${byNode(marked, 'answered an ARP probe of node')}: something outside xnet uses ${marked.length > 1 ? 'them' : 'it'}; handed to no container `
    + 'until that node\'s agent probes again after its quarantine (xnet-agent --external-quarantine) and nobody answers, or the Node is deleted '
    + '(status.external)';
}

/** `198.19.200.140 no longer answers ARP probes of node host-1: ...`, for the marks a round freed. */
export function unmarkedMessage(unmarked: Marks): string {
  return `${byNode(unmarked, 'no longer answers ARP probes of node')} (probed again after its quarantine): `
    + `free again, handed out as any free address (each holder's agent probes ${unmarked.length > 1 ? 'them' : 'it'} before use)`;
}

/** The events of one round's marks: a Warning for the addresses marked, a Normal one for those free again. */
export function tellMarks(events: EventRecorder, on: InvolvedObject, o: { marked?: Marks; unmarked?: Marks }): void {
  if (o.marked) void events.record(on, 'Warning', 'AddressInUseOutside', externalMessage(o.marked));
  if (o.unmarked) void events.record(on, 'Normal', 'AddressFreeAgain', unmarkedMessage(o.unmarked));
}

/** What a round tells as events once committed: its marks, and (dockerIPAM blocks) the addresses newly found held twice (macvlan-conflicts.ts). */
export function tellRound(events: EventRecorder, on: InvolvedObject, o: { marked?: Marks; unmarked?: Marks; conflicts?: AddressConflict[] }): void {
  tellMarks(events, on, o);
  tellConflicts(events, on, o.conflicts);
}
