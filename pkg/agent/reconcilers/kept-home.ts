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

/** Failed moves of one container after which its home is given up. */
export const MOVE_ATTEMPTS = 2;

/**
 * How long a container waits, on the address it came back with, for the controller to grant a
 * home asked for (./home-asks.ts): the plugin's `--ip` request waits 20 s; this spans two of the
 * agent's periodic resyncs past that, so a controller that never answers ends the keeping.
 */
export const HOME_ASK_MS = 60_000;

/** What is known of a container's home when it came back on another address. */
export interface HomeFacts {
  /** homeNeverBackWhy */
  never?: string;
  /** another container here holds the home and is not moving off it */
  heldBy?: string;
  /** moves tried and failed */
  tries: number;
  /** the home is in this node's pool: the plugin gives it at once */
  inPool: boolean;
  /** ms since the home was asked of the controller; undefined while not asked */
  askedFor?: number;
  /** the controller's refusal of the ask, once it counts (dockeripam/requests.ts RefusalWatch) */
  refused?: string;
  /** what the controller says now, counted or not: the reason at the ask's deadline */
  lastWord?: string;
}

export type HomeStep = { step: 'move' } | { step: 'ask' } | { step: 'keep'; why: string };

/**
 * Move the container home now (the plugin grants it), ask the controller for its home first
 * while it stays where it is, or keep it where it is and give the home up (`why`). A home that
 * is not this node's is never moved to before the controller grants it: the plugin would ask
 * then, with the container already off the network, and a refusal left it on any address.
 */
export function homeStep(f: HomeFacts): HomeStep {
  const keep = (why: string): HomeStep => ({ step: 'keep', why });
  if (f.never) return keep(f.never);
  if (f.heldBy) return keep(`held by ${f.heldBy}`);
  if (f.tries >= MOVE_ATTEMPTS) return keep('moves failed');
  if (f.inPool) return { step: 'move' };
  if (f.refused) return keep(`not granted to this node: ${f.refused}`);
  if (f.askedFor !== undefined && f.askedFor > HOME_ASK_MS) {
    return keep(`not granted to this node within ${HOME_ASK_MS / 1000} s of asking${f.lastWord ? ` (${f.lastWord})` : ''}`);
  }
  return { step: 'ask' };
}

/**
 * The moves home that can go now. All movers are taken off the network first, so one whose home
 * another container here holds goes only with that container moving off it in the same round
 * (two that swapped); one whose holder stays where it is (asking the controller for its own
 * home first, or keeping the address) waits, its try not counted: moved, it would be refused and
 * connected again on any address. The holder's ask ends within HOME_ASK_MS: then it moves away,
 * or keeps the address and the waiting one keeps its own (held by the holder).
 */
export function movesNow<T extends { home: string; e: { container: string } }>(moves: T[], holderOf: (ip: string) => string | undefined): T[] {
  for (let now = moves; ;) {
    const moving = new Set(now.map((m) => m.e.container));
    const next = now.filter((m) => { const h = holderOf(m.home); return h === undefined || moving.has(h); });
    if (next.length === now.length) return now;
    now = next;
  }
}
