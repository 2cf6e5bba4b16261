// Docker's event stream, its daemon down, is asked again after waits that double (to 5 s)
// rather than every second for ever; a stream that stayed up starts the waits over. A unix
// socket path with nothing listening stands in for a stopped dockerd, a tiny server that answers
// the event request and keeps the stream open for a running one (no Docker needed).
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerClient } from '../../pkg/docker/client.js';
import { backoffDelay, DOCKER_EVENTS_BACKOFF } from '../../pkg/runtime/backoff.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'xnet-docker-down-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(20)) if (Date.now() > end) throw new Error(`waited ${ms} ms for ${what}`);
}

/** A daemon that answers the event request and sends nothing more until it is stopped. */
async function answeringDaemon(path: string): Promise<{ stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'));
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    async stop() {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/**
 * The event stream (first wait 100 ms) of a daemon that is down for `failuresBefore` attempts,
 * then up for `upMs`, then down again: every wait it was told, and the index of the one after
 * the stream broke.
 */
async function oneStream(sock: string, o: { stableMs: number; failuresBefore: number; upMs: number }): Promise<{ waits: number[]; broke: number }> {
  const path = join(dir, sock);
  const client = new DockerClient(`unix://${path}`, undefined, 1000);
  const waits: number[] = [];
  let connects = 0;
  const sub = client.events(() => undefined, { onError: (_e, retryInMs) => waits.push(retryInMs), onConnect: () => connects++, retryMs: 100, stableMs: o.stableMs });
  try {
    await until(`${o.failuresBefore} failed attempts`, () => waits.length >= o.failuresBefore);
    const daemon = await answeringDaemon(path);
    await until('the stream to be open again', () => connects === 1);
    await sleep(o.upMs);
    const broke = waits.length;
    await daemon.stop();
    await until('the broken stream to be reported', () => waits.length > broke);
    return { waits, broke };
  } finally {
    sub.close();
  }
}

describe('Docker event stream with its daemon down', () => {
  it('is asked again after waits that double, not every time after the first wait', async () => {
    const client = new DockerClient(`unix://${join(dir, 'nobody.sock')}`, undefined, 300);
    const waits: number[] = [];
    const sub = client.events(() => undefined, { onError: (_e, retryInMs) => waits.push(retryInMs), retryMs: 100 });
    try {
      await sleep(2000);
      // asked at about 0, 100, 300, 700 and 1500 ms: every 100 ms was 20 attempts
      expect(waits.length, `attempts in 2 s, waits ${waits.join(', ')}`).toBeLessThanOrEqual(6);
      expect(waits.slice(0, 4)).toEqual([100, 200, 400, 800]);
    } finally {
      sub.close();
    }
  });

  it('starts the waits over once a stream stayed up, so the next outage is seen within the first wait', async () => {
    const { waits, broke } = await oneStream('docker.sock', { stableMs: 300, failuresBefore: 4, upMs: 600 });
    expect(waits.slice(0, 4)).toEqual([100, 200, 400, 800]);
    expect(waits[broke], `waits ${waits.join(', ')}`).toBe(100);
  });

  it('a stream that broke as soon as it was open does not start the waits over', async () => {
    const { waits, broke } = await oneStream('flaky.sock', { stableMs: 60_000, failuresBefore: 2, upMs: 0 });
    expect(waits[broke], `waits ${waits.join(', ')}`).toBe(backoffDelay(broke + 1, { ...DOCKER_EVENTS_BACKOFF, initialMs: 100 }));
  });

  it('waits 1 s after the first failure, doubling to at most 5 s: Docker back is seen within 5 s', () => {
    const waits = Array.from({ length: 8 }, (_, i) => backoffDelay(i + 1, DOCKER_EVENTS_BACKOFF));
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000]);
  });
});
