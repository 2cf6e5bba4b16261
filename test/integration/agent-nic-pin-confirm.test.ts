// A NIC's reconcile pins the container's namespace through the PID Docker's inspect gave
// (pkg/netlink/pinned.ts), then asks Docker again whether the container still runs with that
// PID and start time (pkg/agent/container-pin.ts). Here the container really is restarted, or
// killed, by the lab's dockerd in that moment: the handle then holds a namespace that is no
// longer the container's (what a PID reused by another container's process would give), and
// the NIC must not be made in it.
//
// Real Docker and kernel: host-1's dataplane is the production one on the lab's dockerd; the
// only addition is a test hook in pinNetns that runs `docker restart` (or kill) once the
// handle is open, before the reconcile's confirming inspect. The production wiring has no such
// hook. The test keeps a handle of its own on the namespace the reconcile pinned, to look into
// it afterwards.
import { closeSync, openSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ContainerWatches } from '../../pkg/agent/container-watch.js';
import type { Ready } from '../../pkg/agent/context.js';
import { Dataplane } from '../../pkg/agent/dataplane.js';
import { vethHostName } from '../../pkg/agent/planner/names.js';
import { reconcileNic } from '../../pkg/agent/reconcilers/nics.js';
import { BUSYBOX_IMAGE, hostExec, type LabHost } from '../../pkg/lab/index.js';
import type { PinnedNetns } from '../../pkg/netlink/pinned.js';
import { netnsTarget } from '../../pkg/netlink/target.js';
import { useTestLab } from '../harness/lab.js';
import { handlesOn, markedBridge, nicContext, nsOf, runIn } from './nic-reconcile-context.js';

const lab = useTestLab({ hosts: 1 });
const fds: number[] = [];
const watchers: ContainerWatches[] = [];
const h = (): LabHost => lab().host(1);
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.closeAll()));
  for (const fd of fds.splice(0)) closeSync(fd);
  await lab().docker(h(), ['rm', '-f', 'test']);
  // The kernel destroys a removed container's namespace, and the veth in it with its host end,
  // asynchronously: under load the host end of one test's NIC was still there when the next
  // test looked for it. Wait (bounded) until it is gone.
  for (let i = 0; i < 100 && (await hostLinks()).includes(vethHostName('test-eth1')); i++) await new Promise((r) => setTimeout(r, 100));
});
beforeAll(async () => { await markedBridge(h()); });

/** host-1's dataplane (its kernel, its dockerd); `between`, when set, runs once between the pin and what follows it. */
class HookedDataplane extends Dataplane {
  between?: () => Promise<void>;
  override async pinNetns(pid: number): Promise<PinnedNetns> {
    const ns = await super.pinNetns(pid);
    const f = this.between;
    this.between = undefined;
    try {
      await f?.();
    } catch (e) {
      await ns.close();
      throw e;
    }
    return ns;
  }
}

/** Container "test", running on no Docker network (a namespace of its own with lo only); its PID and start time. */
async function startContainer(): Promise<{ pid: number; startedAt: string }> {
  await lab().docker(h(), ['run', '-d', '--name', 'test', '--network', 'none', BUSYBOX_IMAGE, 'sleep', '100000'], { check: true });
  return inspect();
}

async function inspect(): Promise<{ pid: number; startedAt: string }> {
  const [pid, startedAt] = (await lab().docker(h(), ['inspect', '-f', '{{.State.Pid}} {{.State.StartedAt}}', 'test'], { check: true })).stdout.trim().split(' ');
  return { pid: Number(pid), startedAt };
}

/** A handle of the test's own on the namespace of `pid` now; its path and device:inode. */
function holdNetns(pid: number): { path: string; ns: string } {
  const fd = openSync(`/proc/${pid}/ns/net`, 'r');
  fds.push(fd);
  const path = `/proc/${process.pid}/fd/${fd}`;
  return { path, ns: nsOf(path) };
}

/** A reconcile of test-eth1 on `dp`: the statuses it wrote, as "reason: message". */
async function reconcile(dp: Dataplane): Promise<string[]> {
  const written: string[] = [];
  const watches = new ContainerWatches(() => undefined);
  watchers.push(watches);
  await reconcileNic(nicContext(dp, async (r: Ready) => { written.push(`${r.reason}: ${r.message}`); }, watches), 'test-eth1');
  return written;
}

const linksIn = async (netns: string) => (await runIn(netns, ['ip', '-o', 'link', 'show'])).stdout;
const hostLinks = async () => (await hostExec(h(), ['ip', '-o', 'link', 'show'])).stdout;

describe('a NIC reconcile whose container restarts or dies between the pin and Docker\'s confirmation', () => {
  it('a restart: the NIC is not made in the namespace pinned through the old PID; the next reconcile makes it in the new one', async () => {
    const dp = new HookedDataplane(netnsTarget(h().netns), h().dockerHost);
    const first = await startContainer();
    const old = holdNetns(first.pid);
    dp.between = async () => { await lab().docker(h(), ['restart', '-t', '0', 'test'], { check: true }); };

    const written = await reconcile(dp);
    const now = await inspect();
    expect(now.startedAt, 'the container did restart in that moment').not.toBe(first.startedAt);
    expect(nsOf(`/proc/${now.pid}/ns/net`)).not.toBe(old.ns);
    expect(await linksIn(old.path), 'nothing made in the namespace the old PID gave').not.toContain('eth1');
    expect(await hostLinks(), 'no host end of the NIC either').not.toContain(vethHostName('test-eth1'));
    expect(written).toEqual([expect.stringMatching(/^ContainerNotRunning: container test restarted while the agent opened its network namespace/)]);
    expect(handlesOn(old.ns), 'the reconcile closed its handle: only the test\'s is left').toBe(1);

    // what the container's start event brings: a reconcile that pins and confirms the new namespace
    expect(await reconcile(dp)).toEqual([expect.stringMatching(/^Attaching: /), expect.stringMatching(/^Converged: eth1 is in container test/)]);
    const eth1 = await runIn(`/proc/${now.pid}/ns/net`, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1']);
    expect(eth1.stdout).toContain('inet 10.76.1.84/24');
    expect(await linksIn(old.path)).not.toContain('eth1');
  }, 90_000);

  it('a kill: the NIC is not made in the dead container\'s namespace, which only the handles kept', async () => {
    const dp = new HookedDataplane(netnsTarget(h().netns), h().dockerHost);
    const first = await startContainer();
    const old = holdNetns(first.pid);
    dp.between = async () => { await lab().docker(h(), ['kill', 'test'], { check: true }); };

    const written = await reconcile(dp);
    expect((await lab().docker(h(), ['inspect', '-f', '{{.State.Running}}', 'test'], { check: true })).stdout.trim()).toBe('false');
    expect(await linksIn(old.path), 'nothing made in the dead container\'s namespace').not.toContain('eth1');
    expect(await hostLinks()).not.toContain(vethHostName('test-eth1'));
    expect(written).toEqual(['ContainerNotRunning: container test is not running; the NIC is added when it starts']);
    expect(handlesOn(old.ns)).toBe(1);
  }, 90_000);
});
