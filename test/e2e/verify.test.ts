// xctl lab verify on a real lab: a converged cluster verifies clean (exit 0); a peer route
// deleted by hand while the host's agent is stopped is reported as exactly that difference
// (exit 1); once the agent is back and has healed it, verify is clean again.
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { useTestLab, xctlPath } from '../harness/lab.js';
import { apply, getObject, hostRoutes, waitFor, waitReady } from './helpers.js';

const CLUSTER = `
apiVersion: xnet.io/v1alpha1
kind: ClusterNetwork
metadata: {name: vnet}
spec: {cidr: 10.78.0.0/16, hostPrefix: 24}
`;

describe('xctl lab verify', () => {
  const lab = useTestLab({ hosts: 2, agents: true, controllers: 1 });
  const verify = (args: string[] = []) => execa(process.execPath, [xctlPath(), 'lab', 'verify', ...args], { reject: false, env: { XNET_LAB_DIR: lab().lab.dir }, timeout: 120_000 });

  test('a converged cluster verifies clean', async () => {
    await apply(lab(), CLUSTER);
    for (const h of ['host-1', 'host-2']) await waitReady(lab(), 'hostsubnet', `vnet-${h}`);
    // Ready is written when the host converged; verify reads the hosts themselves
    const r = await waitFor('verify clean', async () => {
      const v = await verify();
      return v.exitCode === 0 ? v : undefined;
    }, 120_000, 1000).catch(async (e) => { const v = await verify(); throw new Error(`${(e as Error).message}\n${v.stdout}${v.stderr}`); });
    expect(r.value.stdout).toMatch(/^no differences: host-1, host-2 hold what etcd declares$/m);
  }, 200_000);

  test('a route deleted while the agent is stopped is exactly one difference, exit 1', async () => {
    const peer = (await getObject(lab(), 'hostsubnet', 'vnet-host-2')).status.subnet as string;
    await lab().stopAgent('host-1');
    await lab().exec('host-1', ['ip', 'route', 'del', peer], { check: true });
    expect((await hostRoutes(lab(), 'host-1')).some((r) => r.dst === peer)).toBe(false);
    const v = await verify();
    expect(v.exitCode, v.stderr).toBe(1);
    const lines = v.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^HOST\s+WHAT\s+EXPECTED\s+FOUND$/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(new RegExp(`^host-1\\s+route\\s+${peer.replace(/\./g, '\\.')} via 198\\.18\\.0\\.12 proto 76\\s+missing or different$`));
    expect(v.stderr).toContain('1 difference(s)');
    // --node narrows to one host: host-2 is clean
    expect((await verify(['--node', 'host-2'])).exitCode).toBe(0);
  }, 200_000);

  test('the restarted agent heals it and verify is clean again', async () => {
    await lab().startAgent('host-1');
    await waitFor('verify clean again', async () => ((await verify()).exitCode === 0 ? true : undefined), 60_000, 1000);
  }, 200_000);
});
