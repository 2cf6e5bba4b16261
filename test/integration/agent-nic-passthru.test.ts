// A ContainerNic on a passthru MacvlanNet, made by reconcileNic in a lab host with a real
// kernel and Docker (as agent-nic-macvlan-no-gateway.test.ts). A passthru macvlan takes its
// parent over, and a MAC set on it is set on the parent: on the host's own interface (eth0,
// which carries the host's address) the NIC is refused and eth0 keeps its MAC; on an interface
// the host does not use (a veth pair made for the test: this kernel has no dummy links) the
// NIC is made and keeps the parent's MAC, which xnet does not change.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type AnyObject } from '../../pkg/api/index.js';
import { BUSYBOX_IMAGE } from '../../pkg/lab/index.js';
import { reconcileNicOn, runIn, useNicLab } from './nic-reconcile-context.js';

const { lab, h, watchers } = useNicLab((lab, host) => lab.exec(host, ['ip', 'link', 'del', 'pt0']));

const meta = (name: string) => ({ name, generation: 1 });
const NIC = {
  apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta('test-lan0'),
  spec: { node: 'host-1', container: 'test', ifName: 'lan0', network: { macvlanNet: 'lan' }, mac: '02:42:c6:13:cd:05', defaultRoute: false },
  status: { ip: '198.19.205.5', prefixLength: 24 },
} as unknown as AnyObject;
const lan = (parent: string) => ({
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('lan'),
  spec: { subnet: '198.19.205.0/24', parent, mode: 'passthru', hostShim: false, dockerIPAM: 'blocks' },
}) as unknown as AnyObject;


/** The MAC of `dev` in an `ip -o link show` line. */
const macIn = (line: string) => /link\/ether (\S+)/.exec(line)?.[1];
const macOf = async (dev: string) => macIn((await lab().exec(h(), ['ip', '-o', 'link', 'show', 'dev', dev], { check: true })).stdout);
async function inContainer(argv: string[]) {
  const pid = (await lab().docker(h(), ['inspect', '-f', '{{.State.Pid}}', 'test'], { check: true })).stdout.trim();
  return runIn(`/proc/${pid}/ns/net`, argv);
}

describe('a ContainerNic on a passthru MacvlanNet', () => {
  it('on the host\'s own interface: refused, ParentInUse, and eth0 keeps its MAC', async () => {
    await lab().docker(h(), ['run', '-d', '--name', 'test', BUSYBOX_IMAGE, 'sleep', '100000'], { check: true });
    const before = await macOf('eth0');
    const written = await reconcileNicOn(h(), watchers, { nics: [NIC], macvlanNets: [lan('eth0')] }, 'test-lan0');
    expect(await macOf('eth0')).toBe(before);
    expect(written.at(-1)).toMatch(/^ParentInUse: mode passthru on eth0, which this host relies on \(it carries the address /);
    expect(before).toMatch(/^[0-9a-f:]{17}$/);
    expect((await inContainer(['ip', 'link', 'show', 'lan0'])).exitCode).not.toBe(0);
  }, 90_000);

  it('on an interface the host does not use: made, with the parent\'s MAC, which stays as it was', async () => {
    await lab().exec(h(), ['ip', 'link', 'add', 'pt0', 'type', 'veth', 'peer', 'name', 'pt0p'], { check: true });
    for (const dev of ['pt0', 'pt0p']) await lab().exec(h(), ['ip', 'link', 'set', dev, 'up'], { check: true });
    await lab().docker(h(), ['run', '-d', '--name', 'test', BUSYBOX_IMAGE, 'sleep', '100000'], { check: true });
    const before = await macOf('pt0');
    const written = await reconcileNicOn(h(), watchers, { nics: [NIC], macvlanNets: [lan('pt0')] }, 'test-lan0');
    expect(written.at(-1)).toMatch(/^Converged: lan0 is in container test with 198\.19\.205\.5\/24/);
    expect(await macOf('pt0')).toBe(before);
    expect(macIn((await inContainer(['ip', '-o', 'link', 'show', 'dev', 'lan0'])).stdout)).toBe(before);
  }, 90_000);
});
