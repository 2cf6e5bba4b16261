// The one rule of which addresses a node's status.dockerHeld counts (pkg/api/docker-held.ts):
// the agent applies it before it writes the list, the controller again to what it reads.
import { describe, expect, it } from 'vitest';
import { dockerHeldIn, dockerHeldSchema, MAX_DOCKER_HELD, xnetPart } from '../../pkg/api/docker-held.js';
import { formatIPv4, parseIPv4 } from '../../pkg/ip/ipv4.js';

const part = xnetPart({ subnet: '10.76.1.0/24', gateway: '10.76.1.1', dockerRange: '10.76.1.128/25' })!;
const texts = (ns: number[]) => ns.map(formatIPv4);

describe('status.dockerHeld', () => {
  it('counts only addresses of xnet\'s part, each once, ascending', () => {
    const listed = ['10.76.1.9', '10.76.1.1', '10.76.1.0', '10.76.1.130', '10.76.1.255', '10.76.2.5', 'nope', '10.76.1.3', '10.76.1.9'];
    expect(texts(dockerHeldIn(part, listed))).toEqual(['10.76.1.3', '10.76.1.9']);
  });

  it('keeps at most MAX_DOCKER_HELD; a longer list or one with a non-address does not decode', () => {
    const many = Array.from({ length: 127 }, (_, i) => formatIPv4(parseIPv4('10.76.1.0') + i));
    const wide = xnetPart({ subnet: '10.76.0.0/16', gateway: '10.76.0.1', dockerRange: '10.76.128.0/17' })!;
    const all = Array.from({ length: 300 }, (_, i) => formatIPv4(parseIPv4('10.76.1.0') + i));
    expect(dockerHeldIn(wide, all)).toHaveLength(MAX_DOCKER_HELD);
    expect(dockerHeldIn(part, many)).toHaveLength(125);
    expect(dockerHeldSchema.safeParse(all).success).toBe(false);
    expect(dockerHeldSchema.safeParse(all.slice(0, MAX_DOCKER_HELD)).success).toBe(true);
    expect(dockerHeldSchema.safeParse(['10.76.1.2', 7]).success).toBe(false);
    expect(dockerHeldSchema.safeParse('10.76.1.2').success).toBe(false);
  });

  it('has no xnet part for a layout that is incomplete or does not parse', () => {
    expect(xnetPart({ subnet: '10.76.1.0/24', gateway: '10.76.1.1' })).toBeUndefined();
    expect(xnetPart({ subnet: 'x', gateway: '10.76.1.1', dockerRange: '10.76.1.128/25' })).toBeUndefined();
  });
});
