// How a ContainerNic's allocation is refused besides the plain AllocationError (ipam/plan.ts):
// its network missing, or a wait for something that comes by itself.
import { AllocationError, type AllocationFailure } from '../ipam/plan.js';

/** InvalidSpec because the NIC's network does not exist (yet): late-warnings.ts tells it as young first. */
export class MissingNetworkError extends AllocationError {
  constructor(message: string) { super('InvalidSpec', message); }
}

/** Not a failure: the NIC waits for something another reconcile provides (its HostSubnet). */
export class WaitingError extends AllocationError {
  /** coolingMs: free addresses exist and come back by themselves in that many ms (the address cooldown), no refusal to warn of */
  constructor(reason: AllocationFailure, message: string, readonly coolingMs?: number) { super(reason, message, { retryable: true }); }
}
