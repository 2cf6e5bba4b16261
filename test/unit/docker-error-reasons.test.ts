// Which reason a refused Docker request becomes: Docker answers 403 both to removing a network
// with containers and to making one whose subnet overlaps another's, which need different acts.
import { describe, expect, it } from 'vitest';
import { toDockerError } from '../../pkg/docker/client.js';

// dockerode's error: the HTTP status and Docker's JSON body (messages as dockerd 20.10 words them)
const refused = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });

describe('toDockerError', () => {
  it('a network that still has containers is NetworkInUse', () => {
    const e = toDockerError(refused(403, 'error while removing network: network net1 id 1234 has active endpoints'), 'remove network net1');
    expect(e.reason).toBe('NetworkInUse');
    expect(e.message).toContain('remove network net1: error while removing network');
  });

  it('a subnet overlapping another network\'s is SubnetOverlap, not NetworkInUse', () => {
    const e = toDockerError(refused(403, 'Pool overlaps with other one on this address space'), 'create network net2');
    expect(e.reason).toBe('SubnetOverlap');
    expect(e.message).toMatch(/^create network net2: Pool overlaps .*another Docker network on this host holds an overlapping subnet/);
    expect(toDockerError(refused(403, 'invalid pool request: Pool overlaps with other one on this address space'), 'x').reason).toBe('SubnetOverlap');
  });

  it('any other 403 is a refused request, not a network in use', () => {
    expect(toDockerError(refused(403, 'operation not permitted on a predefined network'), 'remove network bridge').reason).toBe('DockerRequestFailed');
    expect(toDockerError(refused(500, 'failed to allocate gateway (10.77.1.1): Address already in use'), 'create network aaanet').reason).toBe('DockerRequestFailed');
  });

  it('an unreachable daemon and a timeout keep their reasons', () => {
    expect(toDockerError(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }), 'ping').reason).toBe('DockerUnavailable');
    expect(toDockerError(new Error('no answer within 30000 ms (timeout)'), 'list networks').reason).toBe('DockerTimedOut');
  });
});
