// NodeLease over etcd3's Lease: the lease is granted on first use and again after a loss,
// so an agent that lost etcd for longer than its TTL comes back by heartbeating once more.
import type { Etcd3, Lease } from 'etcd3';
import type { NodeLease } from './types.js';

export class EtcdNodeLease implements NodeLease {
  private lease?: Lease;

  constructor(
    private readonly client: Etcd3, readonly node: string, private readonly key: string,
    private readonly ttlSeconds: number, private readonly onLost?: (err: Error) => void,
  ) {}

  /** The etcd lease id (granting one when there is none). */
  async id(): Promise<string> {
    if (!this.lease) {
      const lease = this.client.lease(this.ttlSeconds, { autoKeepAlive: true });
      lease.on('lost', (err) => {
        if (this.lease !== lease) return;
        this.lease = undefined;
        this.onLost?.(err);
      });
      this.lease = lease;
    }
    const lease = this.lease;
    try {
      return await lease.grant();
    } catch (e) {
      if (this.lease === lease) this.lease = undefined;
      lease.release();
      throw e;
    }
  }

  async heartbeat(value: Record<string, unknown>): Promise<void> {
    const lease = await this.id();
    await this.client.kv.put({ key: Buffer.from(this.key), value: Buffer.from(JSON.stringify(value)), lease });
  }

  release(): void {
    this.lease?.release();
    this.lease = undefined;
  }

  async revoke(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    await lease?.revoke();
  }
}
