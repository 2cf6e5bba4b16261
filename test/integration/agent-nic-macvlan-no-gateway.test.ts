// A ContainerNic with defaultRoute on a MacvlanNet that sets no spec.gateway: the controller
// gives it no gateway (Docker's first address of the subnet is only Docker's placeholder), so
// the agent makes the NIC without a default route through it. Seen in an operator's trial: the
// NIC said Ready `lan0 is in container dr with ...` and nothing told why the container's
// default route stayed Docker's. Real Docker and kernel (the lab's host-1), reconcileNic called
// directly as in agent-nic-pin-confirm.test.ts.
import { describe, expect, it } from 'vitest';
import { API_VERSION, type AnyObject } from '../../pkg/api/index.js';
import { BUSYBOX_IMAGE } from '../../pkg/lab/index.js';
import { reconcileNicOn, runIn, useNicLab } from './nic-reconcile-context.js';

const { lab, h, watchers } = useNicLab();

const meta = (name: string) => ({ name, generation: 1 });
const nicOn = (gateway?: string) => ({
  apiVersion: API_VERSION, kind: 'ContainerNic', metadata: meta('test-lan0'),
  spec: { node: 'host-1', container: 'test', ifName: 'lan0', network: { macvlanNet: 'lan' }, defaultRoute: true },
  status: { ip: '198.19.205.5', prefixLength: 24, ...(gateway ? { gateway } : {}) },
}) as unknown as AnyObject;
const lan = (gateway?: string) => ({
  apiVersion: API_VERSION, kind: 'MacvlanNet', metadata: meta('lan'),
  spec: { subnet: '198.19.205.0/24', parent: 'eth0', dockerIPAM: 'blocks', ...(gateway ? { gateway } : {}) },
}) as unknown as AnyObject;

/** One reconcile of test-lan0 on host-1: the statuses it wrote, as "reason: message". */
const reconcile = (gateway?: string) => reconcileNicOn(h(), watchers, { nics: [nicOn(gateway)], macvlanNets: [lan(gateway)] }, 'test-lan0');

async function containerRoutes(): Promise<string> {
  const pid = (await lab().docker(h(), ['inspect', '-f', '{{.State.Pid}}', 'test'], { check: true })).stdout.trim();
  return (await runIn(`/proc/${pid}/ns/net`, ['ip', 'route', 'show', 'default'])).stdout;
}

describe('defaultRoute on a MacvlanNet without spec.gateway', () => {
  it('the NIC is made, the container keeps its own default route, and its Ready message says why', async () => {
    await lab().docker(h(), ['run', '-d', '--name', 'test', BUSYBOX_IMAGE, 'sleep', '100000'], { check: true });
    const written = await reconcile();
    expect(written.at(-1)).toMatch(/^Converged: lan0 is in container test with 198\.19\.205\.5\/24; no default route through it: MacvlanNet lan sets no spec\.gateway/);
    expect(await containerRoutes()).not.toContain('lan0');
  }, 90_000);

  it('with spec.gateway the NIC is the default route and the message adds nothing', async () => {
    await lab().docker(h(), ['run', '-d', '--name', 'test', BUSYBOX_IMAGE, 'sleep', '100000'], { check: true });
    const written = await reconcile('198.19.205.1');
    expect(written.at(-1)).toBe('Converged: lan0 is in container test with 198.19.205.5/24');
    expect(await containerRoutes()).toContain('via 198.19.205.1 dev lan0');
  }, 90_000);
});
