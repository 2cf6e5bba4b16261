// The Docker event stream has no request timeout (it idles for minutes), but its answer has
// one: a daemon that takes the connection and never answers is reported and retried, not
// waited on for ever. A silent unix socket stands in for that daemon (no Docker needed).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DockerClient } from '../../pkg/docker/client.js';
import type { DockerError } from '../../pkg/docker/types.js';
import { useSilentDocker } from '../harness/silent-docker.js';

const docker = useSilentDocker();

describe('Docker event stream', () => {
  it('reports a daemon that never answers within the request budget, and asks again', async () => {
    const client = new DockerClient(docker.url, undefined, 300);
    const errors: DockerError[] = [];
    const sub = client.events(() => undefined, { onError: (e) => errors.push(e), retryMs: 100 });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors[0].message).toContain('no answer to the event stream request within 300 ms');
      // each attempt was a new connection, and one given up on is closed, not left open
      expect(docker.accepted).toBeGreaterThanOrEqual(2);
      expect(docker.open.size).toBeLessThanOrEqual(1);
    } finally {
      sub.close();
    }
  });
});

describe('Docker requests', () => {
  it('a daemon that takes the request and never answers is DockerTimedOut, not DockerUnavailable', async () => {
    const client = new DockerClient(docker.url, undefined, 300);
    const err = await client.inspectContainer('test').catch((e: DockerError) => e);
    expect((err as DockerError).reason).toBe('DockerTimedOut');
    expect((err as DockerError).message).toContain('inspect container test: Docker did not answer in time');
  });

  it('a ping given a bound of its own ends its request there: DockerTimedOut, its connection closed', async () => {
    const client = new DockerClient(docker.url);
    const before = docker.accepted;
    const err = await client.ping(300).catch((e: DockerError) => e);
    expect((err as DockerError).reason).toBe('DockerTimedOut');
    expect((err as DockerError).message).toContain('ping: Docker did not answer within 300 ms');
    expect(docker.accepted).toBe(before + 1);
    for (const end = Date.now() + 5000; docker.open.size > 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    expect(docker.open.size, 'connections still open').toBe(0);
  });

  it('a daemon that is not there is DockerUnavailable', async () => {
    const client = new DockerClient(`unix://${join(docker.dir, 'nobody.sock')}`, undefined, 300);
    const err = await client.inspectContainer('test').catch((e: DockerError) => e);
    expect((err as DockerError).reason).toBe('DockerUnavailable');
  });
});
