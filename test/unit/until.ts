// A bounded poll for unit tests of in-process machinery (the work queue, its workers): up to
// about a second of 2 ms sleeps, then a failure naming what never came.
export async function until(f: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !f(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!f()) throw new Error(`timed out waiting for ${what}`);
}
