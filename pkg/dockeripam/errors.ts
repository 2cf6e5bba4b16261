import { IpamError } from '../errors.js';

/** A Docker IPAM request xnet refuses; the message goes to the user of `docker run` as is. */
export class XnetIpamError extends IpamError {
  constructor(reason: 'AddressInUse' | 'OutOfRange' | 'PoolExhausted' | 'BadRequest' | 'UnknownPool' | 'Busy' | 'NotOnNode', message: string) {
    super(reason, message, { retryable: reason === 'PoolExhausted' || reason === 'Busy' });
  }
}
