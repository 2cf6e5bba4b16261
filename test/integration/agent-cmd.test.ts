// The xnet-agent command refuses bad flags before touching anything, with exit code 2 and a
// message that says what to fix.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const agent = (args: string[]) => execa('node_modules/.bin/vite-node', ['cmd/xnet-agent.ts', ...args], { reject: false });

describe('xnet-agent flags', () => {
  it.each([
    [['--node', 'Bad_Name'], 'must be a DNS-1123 label'],
    [['--node', 'host-1', '--netns', 'no-such-ns-xnet'], 'no such network namespace'],
    [['--node', 'host-1', '--docker-host', 'ftp://x'], 'expected unix:///path or tcp://host:port'],
    [['--node', 'host-1', '--endpoints', 'https://127.0.0.1:1', '--cert', '/nonexistent.pem'], '--cert/--key need --cacert'],
    [['--node', 'host-1', '--resync', 'often'], '--resync: expected a positive number of seconds'],
  ])('%j -> exit 2', async (args, text) => {
    const r = await agent(args);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(text);
  });

  it('requires --node', async () => {
    const r = await agent([]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('--node');
  });
});
