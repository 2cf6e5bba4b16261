// `docker network disconnect` of a running container frees its address, as Docker's own IPAM
// does (found in a Docker user's trial: it stayed kept for the container, `released` in the
// journal, counted in the MacvlanNet's `used`, and came back on reconnect). Docker's
// ReleaseAddress says not why; the agent's pass after the network's disconnect event sees the
// container no longer on the network (pkg/agent/reconcilers/docker-ipam.ts, leftNetwork). A
// stopped container's address is still kept for it (docker-ipam-kept-stop.test.ts).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabHost } from '../../pkg/lab/index.js';
import { docker, eventually, runContainer, useMacvlanIpamLab } from './agent-harness.js';

const NET = 'dis';
const env = useMacvlanIpamLab(1, NET, { subnet: '192.168.218.0/24', gateway: '192.168.218.1', ipRange: '192.168.218.128/25' });

const ipOn = (h: LabHost, n: string) => docker(h, ['inspect', '-f', `{{with index .NetworkSettings.Networks "${NET}"}}{{.IPAddress}}{{end}}`, n]);

type Entry = { name?: string; released?: number; pinned?: boolean };
function journalEntry(h: LabHost, ip: string): Entry | undefined {
  const j = JSON.parse(readFileSync(join(h.dir, 'ipam-journal.json'), 'utf8')) as { nets: Record<string, { assigned: Record<string, Entry> }> };
  return j.nets[NET]?.assigned[ip];
}

describe('docker network disconnect of a running container', () => {
  const h = () => env.lab.hosts[0];

  it('frees its address (another container may take it); a stopped container\'s address is still kept', async () => {
    // a stopped container on the network: its address kept for it throughout
    await runContainer(h(), 'ks', ['--net', NET]);
    const s = await ipOn(h(), 'ks');
    expect(s).toMatch(/^192\.168\.218\./);
    await docker(h(), ['stop', '-t', '0', 'ks']);
    await eventually(async () => journalEntry(h(), s)?.released !== undefined || undefined, `${s} kept for ks`, 30_000);

    await runContainer(h(), 'dc', ['--net', 'bridge']);
    await docker(h(), ['network', 'connect', NET, 'dc']);
    const a = await ipOn(h(), 'dc');
    expect(a).toMatch(/^192\.168\.218\./);
    await eventually(async () => journalEntry(h(), a)?.name === 'dc' || undefined, `${a} known as dc's`, 30_000);
    await docker(h(), ['network', 'disconnect', NET, 'dc']);
    await eventually(async () => journalEntry(h(), a) === undefined || undefined, `${a} freed after the disconnect (journal: ${JSON.stringify(journalEntry(h(), a))})`, 30_000);
    expect(await docker(h(), ['inspect', '-f', '{{.State.Running}}', 'dc'])).toBe('true');

    // the address is another container's to take; the stopped one's is still kept for it
    await runContainer(h(), 'dn', ['--net', NET, '--ip', a]);
    expect(await ipOn(h(), 'dn')).toBe(a);
    expect(journalEntry(h(), a)?.name).toBe('dn');
    expect(journalEntry(h(), s)?.released, `${s} still kept for stopped ks`).toBeDefined();
    await docker(h(), ['start', 'ks']);
    expect(await ipOn(h(), 'ks'), 'ks started again on its own address').toBe(s);
  }, 180_000);
});
