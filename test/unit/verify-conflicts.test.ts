// `xctl verify` (and each agent's own check) lists a dockerIPAM blocks address held twice on a
// MacvlanNet's segment (status.addressConflicts) as a difference of the node whose container
// holds it, naming that container as the host's Docker says and the other holder
// (pkg/verify/conflicts.ts). The status names no container: every node reads it.
import { describe, expect, it } from 'vitest';
import type { MacvlanNet } from '../../pkg/api/index.js';
import { conflictDifferences } from '../../pkg/verify/conflicts.js';

const net = (addressConflicts: unknown[]) => ({
  apiVersion: 'xnet.io/v1alpha1', kind: 'MacvlanNet', metadata: { name: 'lan' }, spec: { subnet: '10.90.0.0/24', dockerIPAM: 'blocks' },
  status: { addressConflicts, nodes: [{ name: 'host-a', dockerRange: '10.90.0.16/28' }, { name: 'host-b', dockerRange: '10.90.0.32/28' }, { name: 'host-z', dockerRange: '10.90.0.48/28' }] },
}) as unknown as MacvlanNet;
const conflict = {
  ip: '10.90.0.20',
  holders: [{ node: 'host-b', role: 'container', what: 'a container on node host-b' }, { node: 'host-a', role: 'docker-block', what: 'node host-a\'s Docker block 10.90.0.16/28 (its Docker hands it out)' }],
};
const names = async () => new Map([['10.90.0.20', 'web']]);

describe('verify of an address held twice on a blocks segment', () => {
  it('is a difference of the node whose container holds it, naming that container and the other holder', async () => {
    expect(await conflictDifferences('host-b', [net([conflict])], names)).toEqual([{
      host: 'host-b', what: 'macvlannet/lan', expected: '10.90.0.20 held once on the segment',
      found: '10.90.0.20 is held twice: container web on node host-b and node host-a\'s Docker block 10.90.0.16/28 (its Docker hands it out)',
    }]);
  });

  it('is none of the node holding only the block, nor of a network without conflicts', async () => {
    expect(await conflictDifferences('host-a', [net([conflict])], names)).toEqual([]);
    expect(await conflictDifferences('host-b', [net([])], names)).toEqual([]);
  });

  it('is a difference of a node whose container holds it outside its block though the status lists only the first holders', async () => {
    // the same docker run --ip on a thousand hosts: the status lists four holders and counts them
    const many = {
      ip: '10.90.0.20', holderCount: 1000,
      holders: [
        ...['host-c', 'host-d', 'host-e'].map((n) => ({ node: n, role: 'container', what: `a container on node ${n}` })),
        conflict.holders[1],
      ],
    };
    expect(await conflictDifferences('host-b', [net([many])], names)).toEqual([{
      host: 'host-b', what: 'macvlannet/lan', expected: '10.90.0.20 held once on the segment',
      found: '10.90.0.20 is held 1000 times: container web on node host-b, a container on node host-c, a container on node host-d, a container on node host-e, node host-a\'s Docker block 10.90.0.16/28 (its Docker hands it out) and 995 more',
    }]);
    // host-a's own container in its own block, and a node with no container at that address: not theirs to remove
    expect(await conflictDifferences('host-a', [net([many])], names)).toEqual([]);
    expect(await conflictDifferences('host-z', [net([many])], async () => new Map())).toEqual([]);
  });
});
