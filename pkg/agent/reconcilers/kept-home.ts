// When a container came back on another address than the one kept for it, whether that kept
// address can still be its home: the agent moves it back only to an address the plugin would
// grant it. Pure (test/unit/kept-home.test.ts).
import type { MacvlanNet } from '../../api/index.js';
import { macvlanStaticIpWhy } from '../../api/rules.js';

/**
 * Why `home` will never be this node's to hand out again, or undefined. An address merely
 * missing from the node's pool right now is not enough: the pool is briefly without it while
 * the node's Node is deleted and made again, or before the controller's first round after an
 * agent restart, and the controller claims an address the node's report lists in use back for
 * it (controller/macvlan-reclaim.ts) inside the range only. So: outside the range (ipRange
 * shrunk, exclude grown, the gateway; the plugin refuses it), or held by another node, a shim
 * or a host outside xnet (`otherHolder`; the plugin refuses it at once). Moving a container
 * to such an address took it off the network for nothing.
 */
export function homeNeverBackWhy(m: { name: string; spec: MacvlanNet['spec'] }, home: string, inPool: boolean, otherHolder?: string): string | undefined {
  if (inPool) return undefined;
  const never = macvlanStaticIpWhy(m, home);
  if (never) return `no longer handed out: ${never}`;
  return otherHolder && `held by ${otherHolder}`;
}
