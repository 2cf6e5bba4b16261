// Telling the container Docker is starting (pkg/dockeripam/kept-owner.ts inspectWaits): its
// inspect waits on the lock Docker holds while it starts it, measured against a ping of Docker
// sent with it. The inspects and the ping are given; no Docker.
import { describe, expect, it } from 'vitest';
import { inspectWaits } from '../../pkg/dockeripam/kept-owner.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MS = 30;

describe('telling the container Docker is starting (its inspect waits on the container lock)', () => {
  it('is one whose inspect has not answered within the bound after the ping answered; one that answers or fails is not', async () => {
    const check = inspectWaits(async (id) => {
      if (id === 'starting') return new Promise(() => {});
      if (id === 'gone') throw new Error('no such container');
      return { id };
    }, async () => {}, MS);
    expect(await Promise.all(['stopped', 'starting', 'gone'].map(check))).toEqual([false, true, false]);
  });

  it('Docker too slow to answer a ping within its bound: none is taken for one being started, not even one whose inspect never answers', async () => {
    const check = inspectWaits(async (id) => (id === 'starting' ? new Promise(() => {}) : sleep(3 * MS)), () => sleep(3 * MS), MS, 2 * MS);
    expect(await Promise.all(['stopped', 'starting'].map(check))).toEqual([false, false]);
  });

  // A ping slower than STARTING_PROBE_MS, within STARTING_PING_MS (the slow-dockerd case in
  // docker-ipam-slow-inspect.test.ts): such a ping used to let none count, and a `docker start`
  // got a free address. The slack after the ping is as long as the ping took.
  it('Docker slow, the ping answered past the bound but within its own: an inspect answered up to the ping\'s time after it is no start, one still waiting is', async () => {
    const bound = 100;
    const check = inspectWaits(async (id) => (id === 'starting' ? new Promise(() => {}) : sleep(bound * 4.5)), () => sleep(bound * 3), bound, bound * 10);
    expect(await Promise.all(['stopped', 'starting'].map(check))).toEqual([false, true]);
  });

  it('Docker slow to answer, the ping within the bound: an inspect answered later than the bound but soon after the ping is no start', async () => {
    // the ping answers at a fifth of the bound, the stopped one's inspect past the bound (it
    // used to count as being started), but before the bound after the ping
    const bound = 500;
    const check = inspectWaits(async (id) => (id === 'starting' ? new Promise(() => {}) : sleep(bound * 1.1)), () => sleep(bound * 0.2), bound);
    expect(await Promise.all(['stopped', 'starting'].map(check))).toEqual([false, true]);
  });

  it('a ping that fails (Docker gone) lets none count as being started', async () => {
    const check = inspectWaits(() => new Promise(() => {}), async () => { throw new Error('connect ENOENT'); }, MS);
    expect(await check('starting')).toBe(false);
  });

  it('checks begun in one go share one ping', async () => {
    let pings = 0;
    const check = inspectWaits(async (id) => ({ id }), async () => { pings++; }, MS);
    await Promise.all(['a', 'b', 'c'].map(check));
    expect(pings).toBe(1);
  });
});
