// Which Docker endpoints the agent accepts: local sockets, and TCP only with TLS both ways.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerOptions } from '../../pkg/docker/client.js';

const dir = mkdtempSync(join(tmpdir(), 'xnet-docker-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (n: string) => { writeFileSync(join(dir, n), `${n} pem`); return join(dir, n); };

describe('dockerOptions', () => {
  it('unix sockets as before', () => {
    expect(dockerOptions('unix:///run/d.sock')).toEqual({ socketPath: '/run/d.sock' });
    expect(dockerOptions(undefined)).toEqual({ socketPath: '/var/run/docker.sock' });
  });

  it('tcp:// with the three TLS files speaks https with them (default port 2376)', () => {
    const o = dockerOptions('tcp://10.0.0.5', { ca: file('ca'), cert: file('cert'), key: file('key') });
    expect(o).toMatchObject({ host: '10.0.0.5', port: 2376, protocol: 'https' });
    expect(String(o.ca)).toBe('ca pem');
    expect(String(o.cert)).toBe('cert pem');
    expect(String(o.key)).toBe('key pem');
  });

  it.each(['tcp://10.0.0.5:2375', 'http://10.0.0.5:2375', 'https://10.0.0.5:2376'])('%s without TLS files is refused, naming the flags', (url) => {
    expect(() => dockerOptions(url)).toThrow(/without TLS .* give --docker-tls-ca, --docker-tls-cert, --docker-tls-key/);
  });

  it('TLS files with a local socket are a mistake, said so', () => {
    expect(() => dockerOptions('unix:///run/d.sock', { ca: file('ca') })).toThrow(/tcp:\/\/host:port only/);
  });
});
