// What the unit tests of runWorkers share: a quick backoff, a watch on the workers' promise and
// a logger that keeps its lines.
export const fast = { initialMs: 1, maxMs: 5, factor: 2, jitter: 0 };

/** How the workers' promise stands: watched from the start, so a rejection is never unhandled. */
export function watch(p: Promise<void>) {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(() => { state = 'resolved'; }, () => { state = 'rejected'; });
  return {
    get state() { return state; },
    /** the state once it is not pending any more, or after `ms` */
    async after(ms = 300) {
      for (let i = 0; i < ms / 5 && state === 'pending'; i++) await new Promise((r) => setTimeout(r, 5));
      return state;
    },
  };
}

/** A logger that keeps its lines. */
export function logger() {
  const lines: string[] = [];
  const line = (level: string) => (msg: string, meta?: object) => { lines.push(`${level} ${msg} ${JSON.stringify(meta)}`); };
  return { lines, log: { error: line('error'), warn: line('warn') } };
}
