// The agent's lines about Docker's event stream while dockerd is down: a warning at the first
// failure and when the wait before the next attempt grows (or 5 minutes after the last), debug
// lines otherwise, and an info line when Docker answers again. Before, every attempt (one a
// second) was a warning: a dockerd stopped for an hour was 3,600 of them.
import { describe, expect, it } from 'vitest';
import { DockerOutageLog } from '../../pkg/agent/docker-outage.js';
import { DockerError } from '../../pkg/docker/types.js';
import type { Logger } from '../../pkg/log-line.js';
import { backoffDelay, DOCKER_EVENTS_BACKOFF } from '../../pkg/runtime/backoff.js';

function capture(): { log: Logger; lines: { level: string; message: string; meta?: object }[] } {
  const lines: { level: string; message: string; meta?: object }[] = [];
  const at = (level: string) => (message: string, meta?: object) => { lines.push({ level, message, meta }); };
  return { lines, log: { level: 'debug', error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), log: (l, m, meta) => at(l)(m, meta) } };
}

/** An outage of `ms` as the event stream goes through it: failures at DOCKER_EVENTS_BACKOFF's waits. */
function outage(o: DockerOutageLog, clock: { t: number }, ms: number): number {
  const end = clock.t + ms;
  let n = 0;
  while (clock.t < end) {
    const wait = backoffDelay(++n, DOCKER_EVENTS_BACKOFF);
    o.failed(new DockerError('DockerUnavailable', 'events: Docker daemon not reachable (ENOENT); is dockerd running?'), wait);
    clock.t += wait;
  }
  return n;
}

describe('DockerOutageLog', () => {
  it('a dockerd stopped for an hour is a few warnings, then one line when it is back', () => {
    const clock = { t: 1000 };
    const { log, lines } = capture();
    const o = new DockerOutageLog(log, () => clock.t);
    const attempts = outage(o, clock, 3600_000);
    const warnings = lines.filter((l) => l.level === 'warn');
    // 1, 2, 4, 5 s, then once per 5 minutes: 4 + 12 (720 attempts)
    expect(warnings.length).toBeLessThanOrEqual(20);
    expect(warnings.length).toBeGreaterThanOrEqual(4);
    expect(warnings[0].meta).toMatchObject({ failedAttempts: 1, retryInMs: 1000 });
    expect(lines.filter((l) => l.level === 'debug').length).toBe(attempts - warnings.length);
    o.connected();
    expect(lines.at(-1)).toMatchObject({ level: 'info', message: 'docker events: Docker answers again; looking at everything again', meta: { failedAttempts: attempts } });
  });

  it('the next outage warns at its first failure again', () => {
    const clock = { t: 1000 };
    const { log, lines } = capture();
    const o = new DockerOutageLog(log, () => clock.t);
    outage(o, clock, 120_000);
    o.connected();
    clock.t += 10_000;
    const before = lines.length;
    o.failed(new DockerError('DockerUnavailable', 'event stream ended'), 1000);
    expect(lines.slice(before)).toMatchObject([{ level: 'warn', message: 'docker events', meta: { failedAttempts: 1 } }]);
  });

  it('a connection without a failure before it says nothing', () => {
    const { log, lines } = capture();
    new DockerOutageLog(log).connected();
    expect(lines).toEqual([]);
  });
});
