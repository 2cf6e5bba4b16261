// `xctl verify` of a NIC on `clusterNetwork: defualt` (a typo) said only "NoAddress: waiting for
// the controller to allocate an address"; the controller's Ready says why it does not.
import { describe, expect, it } from 'vitest';
import { controllerWhy } from '../../pkg/verify/verify.js';

describe('verify of an object the agent finds waiting for a controller that refused it', () => {
  const why = 'ClusterNetwork "defualt" does not exist (did you mean "default"?)';
  const nicWith = (conds: Array<{ type: string; status: string; reason: string; message: string }>) => ({ metadata: { name: 'n' }, status: { conditions: conds } });
  const caches = (o: unknown) => ({ nics: { get: () => o }, hostSubnets: { get: () => undefined } }) as never;
  const waiting = { status: 'False' as const, reason: 'NoAddress', message: 'waiting for the controller to allocate an address' };

  it('names the controller\'s reason and message', () => {
    const refused = nicWith([{ type: 'Allocated', status: 'False', reason: 'InvalidSpec', message: why }, { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: why }]);
    expect(controllerWhy(caches(refused), 'ContainerNic', 'n', waiting)).toEqual({ status: 'False', reason: 'InvalidSpec', message: why });
  });

  it('keeps the agent\'s when the controller allocated, has not decided, or the agent has another reason', () => {
    const allocated = nicWith([{ type: 'Allocated', status: 'True', reason: 'Allocated', message: '' }, { type: 'Ready', status: 'False', reason: 'WaitingForAgent', message: '' }]);
    expect(controllerWhy(caches(allocated), 'ContainerNic', 'n', waiting)).toBe(waiting);
    expect(controllerWhy(caches(undefined), 'ContainerNic', 'n', waiting)).toBe(waiting);
    const other = { status: 'False' as const, reason: 'ContainerNotFound', message: 'no container' };
    expect(controllerWhy(caches(nicWith([])), 'ContainerNic', 'n', other)).toBe(other);
  });

  it('takes the reason from the controller\'s Allocated, not a merged Ready that is a node\'s older report', () => {
    const stale = nicWith([{ type: 'Allocated', status: 'False', reason: 'InvalidSpec', message: why }, { type: 'Ready', status: 'False', reason: 'ContainerNotFound', message: 'no container' }]);
    expect(controllerWhy(caches(stale), 'ContainerNic', 'n', waiting)).toEqual({ status: 'False', reason: 'InvalidSpec', message: why });
  });
});
