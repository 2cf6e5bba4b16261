import { describe, expect, it } from 'vitest';
import { inspectWaits } from '../../pkg/dockeripam/kept-owner.js';

describe('telling the container Docker is starting (its inspect waits on the container lock)', () => {
  it('is one whose inspect has not answered within the bound; one that answers or fails is not', async () => {
    const check = inspectWaits(async (id) => {
      if (id === 'starting') return new Promise(() => {});
      if (id === 'gone') throw new Error('no such container');
      return { id };
    }, 30);
    expect(await Promise.all(['stopped', 'starting', 'gone'].map(check))).toEqual([false, true, false]);
  });
});
