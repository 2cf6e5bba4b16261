// The controller's options and their defaults (cmd/xnet-controller.ts sets them from flags).
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../log.js';

export interface ControllerOptions {
  client: Etcd3;
  prefix?: string;
  /** identity written to the election key; default host:pid:random */
  id?: string;
  /** leader lease TTL; a killed leader is replaced within about this long */
  leaseTtlSeconds?: number;
  workers?: number;
  log?: Logger;
  /** etcd's --max-txn-ops (128 by default) */
  maxTxnOps?: number;
  gcIntervalMs?: number;
  /** a released address is not handed out again for this long (default 30 s; address-cooldown.ts) */
  addressCooldownMs?: number;
  /** a ContainerNic whose Node is missing this long gets a Warning NodeNotFound (default 15 s, the agents' settling grace) */
  settleGraceMs?: number;
}

export const DEFAULT_ADDRESS_COOLDOWN_MS = 30_000;

/**
 * Concurrent reconciles. A NIC's reconcile waits on its pool's executor while its transaction
 * is in flight, so this bounds how many NICs the rounds in flight can batch: at 64, a burst of
 * thousands went to etcd one or two NICs per transaction; 1,024 keeps three rounds of up to
 * 8 x 42 NICs fed (pool-executor.ts). Idle workers cost a pending promise each.
 */
export const DEFAULT_WORKERS = 1024;
