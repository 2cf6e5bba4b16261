// test/harness/built.ts: a fixture whose build outlives beforeAll's timeout is still taken
// down, whether it ends while afterAll waits or after afterAll gave up waiting.
import { describe, expect, it } from 'vitest';
import { Built } from '../harness/built.js';

const later = <T>(ms: number, v: T) => new Promise<T>((r) => setTimeout(() => r(v), ms));

describe('Built', () => {
  it('takes down what was built, once', async () => {
    const downs: string[] = [];
    const b = new Built(async () => 'lab', async (t) => { downs.push(t); });
    await b.build();
    expect(b.get()).toBe('lab');
    await b.down(1_000);
    expect(downs).toEqual(['lab']);
  });

  it('waits for a build still running when afterAll comes (beforeAll timed out), then takes it down', async () => {
    const downs: string[] = [];
    const b = new Built(() => later(50, 'slow'), async (t) => { downs.push(t); });
    void b.build().catch(() => undefined); // vitest stopped awaiting this hook
    await b.down(1_000);
    expect(downs).toEqual(['slow']);
    // the test file's getter never hands out a lab that was taken down
    expect(b.get()).toBeUndefined();
  });

  it('takes down a build that ends after afterAll stopped waiting, the moment it ends', async () => {
    const downs: string[] = [];
    const b = new Built(() => later(80, 'slower'), async (t) => { downs.push(t); });
    void b.build().catch(() => undefined);
    await b.down(10);
    expect(downs).toEqual([]);
    await later(120, undefined);
    expect(downs).toEqual(['slower']);
  });

  it('has nothing to take down when the build failed (it cleans up after itself)', async () => {
    const downs: string[] = [];
    const b = new Built<string>(async () => { throw new Error('no dockerd'); }, async (t) => { downs.push(t); });
    await expect(b.build()).rejects.toThrow('no dockerd');
    await b.down(1_000);
    expect(downs).toEqual([]);
  });
});
