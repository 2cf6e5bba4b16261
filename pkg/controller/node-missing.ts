// A ContainerNic or HostSubnet names its node by spec.node. xctl accepts a name no Node has
// (the Node may come later: the controller makes it when that node's agent joins), so a typo
// there (host1 for host-1) would only ever say "waiting". The waiting messages say that no
// such Node exists, so that an operator can tell a typo from an agent that is not started;
// events.ts looks at those objects again when their Node comes or goes.
import type { Model } from './model.js';

export function missingNodeNote(model: Pick<Model, 'node' | 'cache' | 'keys'>, node: string): string {
  if (model.node(node) || model.cache.isRefused(model.keys.object('Node', node))) return '';
  return `; no Node "${node}" exists (no agent has joined under that name): check spec.node`;
}
