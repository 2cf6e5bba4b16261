import { IpamError } from '../errors.js';

/**
 * A Docker IPAM request xnet refuses; the message goes to the user of `docker run` as is.
 * PoolChanging: the addresses a request looked at kept leaving this node's pool (or being
 * taken) during their ARP probe until its bound; not PoolExhausted, which says none was left.
 */
export class XnetIpamError extends IpamError {
  constructor(reason: 'AddressInUse' | 'OutOfRange' | 'PoolExhausted' | 'PoolChanging' | 'BadRequest' | 'UnknownPool' | 'Busy' | 'NotOnNode', message: string) {
    super(reason, message, { retryable: reason === 'PoolExhausted' || reason === 'PoolChanging' || reason === 'Busy' });
  }
}
