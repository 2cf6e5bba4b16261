// AgentOptions.dockerEventsRetryMs ("the first wait before Docker's event stream is opened again
// after a break") reaches DockerClient.events as retryMs, the back-off's first wait. Since
// DOCKER_EVENTS_BACKOFF was capped at 5 s, that cap cut every wait, the first included: 20 s
// (test/integration/docker-ipam-kept-stop.test.ts, which holds a restored dockerd's window open
// with it) gave 5 s. A socket path with nothing listening stands in for a stopped dockerd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DockerClient } from '../../pkg/docker/client.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'xnet-docker-events-wait-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('dockerEventsRetryMs 20 s: the first wait after a failure is 20 s, as the option says', async () => {
  const client = new DockerClient(`unix://${join(dir, 'none.sock')}`, undefined, 1000);
  const waits: number[] = [];
  const sub = client.events(() => undefined, { onError: (_e, retryInMs) => waits.push(retryInMs), retryMs: 20_000 });
  try {
    for (const end = Date.now() + 5000; waits.length === 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    expect(waits[0], 'the first wait the stream was told').toBe(20_000);
  } finally { sub.close(); }
});
