// A counting semaphore for the work-queue workers (workers.ts): how many keys are reconciled
// at once, whether one per worker or many in one bulk reconcile.
//
// One worker at a time takes a slot, the next only when that one has taken its keys (passOn):
// a round's commit frees hundreds of slots in one go (and at the start all are free), and the
// first worker takes them all for one bulk reconcile, instead of hundreds of workers one each.

export class Slots {
  private readonly waiting: Array<() => void> = [];
  private idle: Array<() => void> = [];
  /** a worker holds the turn to take: it has not yet taken its keys (passOn) */
  private waking = false;

  constructor(private readonly total: number, private freeNow = total) {}

  /** Slots not held now. */
  get free(): number { return this.freeNow; }

  /**
   * Takes one slot and the turn to take: at once (undefined), or a promise resolved when both
   * are taken. The worker must call passOn() once it has taken its keys.
   */
  take(): Promise<void> | undefined {
    if (this.freeNow > 0 && !this.waking && !this.waiting.length) { this.freeNow--; this.waking = true; return undefined; }
    return new Promise((r) => { this.waiting.push(r); });
  }

  /** Takes `n` slots that are free now (the caller checked `free`). */
  takeNow(n: number): void {
    if (n > this.freeNow) throw new Error(`Slots: ${n} taken with ${this.freeNow} free`);
    this.freeNow -= n;
  }

  /** Gives back `n` slots. */
  give(n: number): void {
    this.freeNow += n;
    if (this.freeNow === this.total) for (const r of this.idle.splice(0)) r();
    this.wake();
  }

  /** The worker with the turn has taken its keys: the next waiting one may have what is still free. */
  passOn(): void {
    this.waking = false;
    this.wake();
  }

  private wake(): void {
    if (this.waking || this.freeNow === 0) return;
    const w = this.waiting.shift();
    if (!w) return;
    this.waking = true;
    this.freeNow--;
    w();
  }

  /** Resolves once every slot is free. */
  allFree(): Promise<void> {
    if (this.freeNow === this.total) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }
}
