// What bench/scale.ts and its hollow-node processes agree on.

export interface HollowConfig {
  mode: 'xnet' | 'baseline';
  endpoints: string[];
  prefix: string;
  /** node i is named nodeName(i) and has the underlay address underlayAddress(i) */
  first: number;
  count: number;
  /** ms since the epoch: agents not through their first pass by then are not waited for */
  startDeadline: number;
}

export const nodeName = (i: number) => `node-${i}`;

/** The underlay every hollow node is on: 198.18.0.0/16, one address each. */
export const UNDERLAY_CIDR = '198.18.0.0/16';
export const underlayAddress = (i: number) => `198.18.${1 + (i >> 8)}.${i & 255}`;
