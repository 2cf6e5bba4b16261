// One fault of the chaos suite: what it breaks, what it exercises in the code, and what the
// runner must know to judge it (which flows it hits directly, its own "settled" condition).
import type { ChaosLab } from '../lab.js';

export interface ChaosOptions {
  /** ContainerNics applied during fault 3 (the figure: 2,000) */
  nics: number;
  /** fault 2's etcd outage, fault 5's link outage (ms) */
  etcdOutageMs: number;
  linkOutageMs: number;
}

export interface FaultContext {
  c: ChaosLab;
  opts: ChaosOptions;
  say(line: string): void;
}

export interface Injected {
  /** when the fault was over (the last thing undone), ms since the epoch */
  end: number;
  /** flows the fault hits directly: their loss is reported, not judged (default: none) */
  affected?: (flow: Flow) => boolean;
  /** affected flows must carry traffic again within this long of `end` */
  resumeWithinMs?: number;
  /** the fault's own settled condition: why it does not hold yet, or undefined */
  settled?: () => Promise<string | undefined>;
  /** what the fault itself saw go wrong while it ran */
  violations?: string[];
  /** what the printed row should say about this run (e.g. what was scaled down) */
  notes?: string[];
  /** more notes, gathered once the runner stopped waiting for the fault to settle */
  afterSettled?: () => Promise<string[]>;
}

export interface Fault {
  id: number;
  title: string;
  /** the code paths it exercises (docs/faults.md) */
  exercises: string;
  inject(ctx: FaultContext): Promise<Injected>;
}

/** "host-1>host-2/eth0": sent by host-1's prober to host-2's eth0 */
export interface Flow { key: string; from: string; to: string; path: string }

export function parseFlow(key: string): Flow {
  const m = /^([^>]+)>([^/]+)\/(.+)$/.exec(key);
  if (!m) throw new Error(`not a flow: ${key}`);
  return { key, from: m[1], to: m[2], path: m[3] };
}

/** Flows to or from a host. */
export const touches = (host: string) => (f: Flow) => f.from === host || f.to === host;
