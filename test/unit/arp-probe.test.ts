// The IPAM plugin's ARP probe when it cannot look: arping missing, or refused its packet socket
// (a unit without AF_PACKET in RestrictAddressFamilies). Such a probe counts as 'unavailable'
// and the address goes out unprobed: the agent says so once, and counts every probe by result.
// `arping` here is a script on PATH, run in this namespace (target SELF): nothing is sent.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arpProbe, arpProber } from '../../pkg/dockeripam/arp.js';
import { arpProbes } from '../../pkg/metrics/metrics.js';
import { SELF } from '../../pkg/netlink/target.js';
import type { Logger } from '../../pkg/log.js';

let dir: string;
const PATH = process.env.PATH;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'xnet-arping-')); process.env.PATH = `${dir}:${PATH}`; });
afterEach(() => { process.env.PATH = PATH; rmSync(dir, { recursive: true, force: true }); });

/** An `arping` that prints err on stderr (and out on stdout) and exits with code. */
function fakeArping(code: number, err = '', out = ''): void {
  writeFileSync(join(dir, 'arping'), `#!/bin/sh\n${out ? `echo '${out}'\n` : ''}${err ? `echo '${err}' >&2\n` : ''}exit ${code}\n`);
  chmodSync(join(dir, 'arping'), 0o755);
}

async function counted(result: string): Promise<number> {
  return (await arpProbes.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
}

function recordingLog(): { log: Logger; warnings: Array<[string, unknown]>; infos: Array<[string, unknown]> } {
  const warnings: Array<[string, unknown]> = [];
  const infos: Array<[string, unknown]> = [];
  const log = {
    warn: (msg: string, meta?: unknown) => { warnings.push([msg, meta]); },
    info: (msg: string, meta?: unknown) => { infos.push([msg, meta]); },
  } as unknown as Logger;
  return { log, warnings, infos };
}

describe('ARP probe', () => {
  it('reads arping -D: 0 is free, 1 without an error is answered; each counted by result', async () => {
    const [free, answered] = [await counted('free'), await counted('answered')];
    fakeArping(0);
    expect(await arpProbe(SELF, 'eth9', '10.9.0.5')).toBe('free');
    fakeArping(1);
    let why = '';
    expect(await arpProbe(SELF, 'eth9', '10.9.0.5', { onUnavailable: (w) => { why = w; } }), why).toBe('answered');
    expect(await counted('free')).toBe(free + 1);
    expect(await counted('answered')).toBe(answered + 1);
  });

  it('a probe refused its socket is unavailable: warned once, with why, and every one counted', async () => {
    fakeArping(2, 'arping: socket: Address family not supported by protocol');
    const before = await counted('unavailable');
    const { log, warnings } = recordingLog();
    const probe = arpProber(log);
    expect(await probe(SELF, 'eth9', '10.9.0.5')).toBe('unavailable');
    expect(await probe(SELF, 'eth9', '10.9.0.6')).toBe('unavailable');
    expect(await counted('unavailable')).toBe(before + 2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0][0]).toMatch(/ARP probe unavailable.*without/);
    expect(warnings[0][1]).toMatchObject({ dev: 'eth9', ip: '10.9.0.5', why: expect.stringContaining('Address family not supported') });
  });

  // A journalled parent that is not there (yet: a VLAN link the agent has not made) spent the
  // one warning on "needs arping ... AF_PACKET", and a broken arping later went unsaid.
  it('a parent that does not exist is said naming it, and leaves the warning about arping for arping', async () => {
    fakeArping(2, 'arping: Device eth9.40 not available.');
    const { log, warnings, infos } = recordingLog();
    const probe = arpProber(log);
    expect(await probe(SELF, 'eth9.40', '10.9.0.5')).toBe('unavailable');
    expect(await probe(SELF, 'eth9.40', '10.9.0.6')).toBe('unavailable');
    expect(warnings).toEqual([]);
    expect(infos).toHaveLength(1);
    expect(infos[0][0]).toMatch(/interface eth9\.40 does not exist \(yet\)/);
    expect(infos[0][0]).not.toMatch(/iputils|AF_PACKET/);
    fakeArping(2, 'arping: unknown iface eth9.41'); // an older arping's words
    expect(await probe(SELF, 'eth9.41', '10.9.0.5')).toBe('unavailable');
    expect(infos.map(([m]) => m)).toEqual([expect.stringContaining('eth9.40'), expect.stringContaining('interface eth9.41 does not exist')]);
    // arping itself broken later: its warning was not used up
    fakeArping(2, 'arping: socket: Address family not supported by protocol');
    expect(await probe(SELF, 'eth9.40', '10.9.0.5')).toBe('unavailable');
    expect(warnings).toHaveLength(1);
    expect(warnings[0][0]).toMatch(/ARP probe unavailable.*iputils-arping/);
  });

  it('a parent said missing that appears and goes again is said again', async () => {
    const { log, infos } = recordingLog();
    const probe = arpProber(log);
    fakeArping(2, 'arping: Device eth9.40 not available.');
    await probe(SELF, 'eth9.40', '10.9.0.5');
    fakeArping(0);
    expect(await probe(SELF, 'eth9.40', '10.9.0.5')).toBe('free');
    fakeArping(2, 'arping: Device eth9.40 not available.');
    await probe(SELF, 'eth9.40', '10.9.0.5');
    expect(infos).toHaveLength(2);
  });

  // With -q, arping said nothing of a parent set down (exit 2: "arping unavailable", spending
  // its warning) and exited 0 for one without ARP, having sent nothing: "free", unlooked.
  it('a parent that is down or has no ARP cannot be looked on: unavailable, said naming its state, the warning kept for arping', async () => {
    const { log, warnings, infos } = recordingLog();
    const probe = arpProber(log);
    fakeArping(2, '', 'Interface "eth9" is down');
    expect(await probe(SELF, 'eth9', '10.9.0.5')).toBe('unavailable');
    fakeArping(0, '', 'Interface "dummy9" is not ARPable');
    expect(await probe(SELF, 'dummy9', '10.9.0.5')).toBe('unavailable');
    expect(warnings).toEqual([]);
    expect(infos.map(([m]) => m)).toEqual([expect.stringContaining('interface eth9 is down'), expect.stringContaining('interface dummy9 is not ARPable')]);
    // arping's other chatter on stdout is not read: a probe nobody answers is still free
    fakeArping(0, '', 'ARPING 10.9.0.5 from 0.0.0.0 eth9\nSent 2 probes (2 broadcast(s))\nReceived 0 response(s)');
    expect(await probe(SELF, 'eth9', '10.9.0.5')).toBe('free');
  });

  it('no arping at all is unavailable too, and says so', async () => {
    process.env.PATH = dir; // holds no arping
    const { log, warnings } = recordingLog();
    expect(await arpProber(log)(SELF, 'eth9', '10.9.0.5')).toBe('unavailable');
    expect(warnings).toHaveLength(1);
    expect((warnings[0][1] as { why: string }).why).toMatch(/ENOENT/);
  });
});
