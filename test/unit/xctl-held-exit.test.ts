// xctl's last resort when something still holds the process after its command ended
// (pkg/cli/held-exit.ts): it exits with the command's code anyway and, with XNET_LOG_LEVEL=debug,
// says what held it. The tests of the built program look for that line to tell a process that
// ended by itself from one that had to be ended (xctl-watch-resume.test.ts).
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exitEvenIfHeld, HELD_EXIT_LINE } from '../../pkg/cli/held-exit.js';

let server: Server | undefined;
afterEach(async () => { await new Promise((r) => (server ? server.close(r) : r(undefined))); server = undefined; });

/** Runs exitEvenIfHeld while a listening socket holds the process; what it wrote and the code it exited with. */
async function heldExit(env: Record<string, string>): Promise<{ said: string; code: number }> {
  server = createServer();
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  let said = '';
  const code = await new Promise<number>((exit) => exitEvenIfHeld(3, { env, err: (t) => { said += t; }, exit, afterMs: 10 }));
  return { said, code };
}

describe('xctl ending a process its command left held', () => {
  it('exits with the command\'s code and, at debug level, names what held it', async () => {
    const { said, code } = await heldExit({ XNET_LOG_LEVEL: 'debug' });
    expect(code).toBe(3);
    expect(said).toMatch(new RegExp(`^${HELD_EXIT_LINE} 10 ms after the command ended, by .*TCPServerWrap.*; exiting\\n$`));
  });

  it('says nothing at the default level', async () => {
    const { said, code } = await heldExit({});
    expect(code).toBe(3);
    expect(said).toBe('');
  });
});
