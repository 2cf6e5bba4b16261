// The Node name a host's programs take when given no --node: the agent and `xctl verify
// --local` one rule (pkg/cli/node-name.ts), the short host name the agent's systemd unit passes
// (`%l`). verify --local took the full host name: on `h1.example.com` it read the host as Node
// "h1.example.com", which no agent runs as (its unit's is "h1").
import { describe, expect, it, vi } from 'vitest';

const seen = vi.hoisted(() => ({ nodes: [] as string[], stateDirs: [] as Array<string | undefined> }));
vi.mock('node:os', async (orig) => ({ ...(await orig<typeof import('node:os')>()), hostname: () => 'h1.example.com' }));
vi.mock('../../pkg/verify/verify.js', async (orig) => ({
  ...(await orig<typeof import('../../pkg/verify/verify.js')>()),
  // what verify --local reads (this host's kernel and Docker): only the name it is given, here
  verifyHost: async (o: { node: string; stateDir?: string }) => { seen.nodes.push(o.node); seen.stateDirs.push(o.stateDir); return []; },
}));

const { defaultNodeName } = await import('../../pkg/cli/node-name.js');
const { verifyCommand } = await import('../../pkg/cli/commands/verify-run.js');

describe('the default Node name of a host', () => {
  it('is the host name up to its first dot, as systemd\'s %l, and nothing else changed', () => {
    expect(defaultNodeName('h1.example.com')).toBe('h1');
    expect(defaultNodeName('host-1')).toBe('host-1');
    // not lower-cased: such a name is refused where it is checked (the agent's --node), not made another
    expect(defaultNodeName('Host1.lan')).toBe('Host1');
    expect(defaultNodeName()).toBe('h1'); // this (mocked) host's
  });

  it('is what xctl verify --local reads this host as, without --node', async () => {
    let out = '';
    const io = { out: (t: string) => { out += t; }, err: () => undefined, stdin: async () => '', env: {} };
    const session = { store: () => ({}) } as never;
    expect(await verifyCommand(session, io, { local: true })).toBe(0);
    expect(seen.nodes).toEqual(['h1']);
    expect(out).toBe('no differences: h1 holds what etcd declares\n');
    await verifyCommand(session, io, { local: true, node: 'host-7' });
    expect(seen.nodes).toEqual(['h1', 'host-7']);
    // the agent's --state-dir, where it records the networks it made (else /var/lib/xnet/<node>)
    await verifyCommand(session, io, { local: true, stateDir: '/srv/xnet/h1' });
    expect(seen.stateDirs).toEqual([undefined, undefined, '/srv/xnet/h1']);
  });
});
