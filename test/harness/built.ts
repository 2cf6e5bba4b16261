// A test file's fixture built in beforeAll and taken down in afterAll, also when the build
// outlives its hook: vitest gives up on a beforeAll at its timeout and runs afterAll while the
// build goes on, so a lab finished after that would be left behind (namespaces, dockerds,
// etcd). Here afterAll waits for a build still running (half its time) and takes down what it
// made; one that ends later still is taken down the moment it ends.
import { afterAll, beforeAll } from 'vitest';

export interface BuiltOptions {
  /** beforeAll's timeout */
  buildMs: number;
  /** afterAll's timeout; a running build is waited for half of it, the other half is for the take-down */
  downMs: number;
}

/** What useBuilt's hooks do, apart from vitest: `build()` in beforeAll, `down()` in afterAll. */
export class Built<T> {
  private value?: T;
  private building?: Promise<T>;
  private over = false;
  private gaveUp = false;

  constructor(private readonly make: () => Promise<T>, private readonly takeDown: (t: T) => Promise<void>) {}

  async build(): Promise<void> {
    this.building = this.make();
    // taken down here only when afterAll stopped waiting for it
    this.building.then((t) => { if (this.gaveUp) void this.takeDown(t).catch(() => undefined); }, () => undefined);
    const t = await this.building;
    if (!this.over) this.value = t;
  }

  async down(waitMs: number): Promise<void> {
    this.over = true;
    if (this.value !== undefined) { await this.takeDown(this.value); return; }
    if (!this.building) return;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.building.then((t) => ({ t }), () => undefined),
      new Promise<'waiting'>((r) => { timer = setTimeout(() => r('waiting'), waitMs); }),
    ]).finally(() => clearTimeout(timer));
    if (late === 'waiting') this.gaveUp = true;
    else if (late) await this.takeDown(late.t);
  }

  get(): T | undefined { return this.value; }
}

/** Registers both hooks; the getter throws while (or when) nothing was built. */
export function useBuilt<T>(make: () => Promise<T>, takeDown: (t: T) => Promise<void>, o: BuiltOptions, what = 'fixture'): () => T {
  const b = new Built(make, takeDown);
  beforeAll(() => b.build(), o.buildMs);
  // half the hook's time to wait for a late build, half to take it down
  afterAll(() => b.down(o.downMs / 2), o.downMs);
  return () => {
    const v = b.get();
    if (v === undefined) throw new Error(`${what} not built (did beforeAll fail? see its error above)`);
    return v;
  };
}
