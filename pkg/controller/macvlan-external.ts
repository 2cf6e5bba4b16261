// dockerIPAM xnet: a node's agent probes an address with ARP before a container gets it; one
// that answers is used by someone outside xnet, and the controller marks it `external`
// (status.external): handed to no one while the Node that probed it exists. Only the status
// said so; the Warning event says it where `xctl get events` and `describe` look, with what to do.
import { firstFew } from '../first-few.js';

/** `198.19.200.140 answered an ARP probe of node host-1: ...`, for the addresses a round marked. */
export function externalMessage(marked: ReadonlyArray<{ ip: string; node: string }>): string {
  const byNode = new Map<string, string[]>();
  for (const m of marked) byNode.set(m.node, [...byNode.get(m.node) ?? [], m.ip]);
  const which = [...byNode].map(([node, ips]) => `${firstFew(ips, 5)} answered an ARP probe of node ${node}`).join('; ');
  return `${which}: something outside xnet uses ${marked.length > 1 ? 'them' : 'it'}; handed to no container while that Node exists `
    + '(status.external)';
}
