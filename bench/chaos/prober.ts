// The prober (prober.c) from the runner's side: compiled static once per lab, put into an
// image made locally (the lab's busybox root filesystem plus /bin/prober, `docker import`ed
// like the lab's own image), and read back through the files it writes in a host directory
// bind-mounted into its container.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar, hostDocker, type Lab, type LabHost } from '../../pkg/lab/index.js';
import { run } from '../../pkg/lab/run.js';
import { proberSource } from './paths.js';

export const PROBER_IMAGE = 'xnet/chaos-prober:latest';
export const PROBER_PORT = 7700;
export const TICK_MS = 10;

export interface Target { label: string; address: string }

/** One gap the receiver saw: `lost` packets, `gapMs` of silence, noticed at `at` (ms since epoch). */
export interface Gap { at: number; flow: string; kind: 'seq' | 'restart'; lost: number; gapMs: number }

export interface FlowStatus { flow: string; epoch: number; seq: number; received: number; lost: number; late: number; lastRx: number }

export function proberOutDir(lab: Lab, h: LabHost): string {
  return join(lab.dir, 'probe', h.name);
}

/** cc -static: the binary runs in an image that holds nothing else it could link against. */
async function compileProber(lab: Lab): Promise<string> {
  const bin = join(lab.dir, 'prober-root', 'bin', 'prober');
  mkdirSync(join(lab.dir, 'prober-root', 'bin'), { recursive: true });
  const cc = await run(['cc', '-static', '-O2', '-o', bin, proberSource()], { reject: false, timeoutMs: 120_000 });
  if (cc.exitCode !== 0) throw new Error(`compiling ${proberSource()} failed (needs gcc and libc6-dev): ${cc.stderr}`);
  return bin;
}

/** Builds the image tar once per lab and imports it into every host's Docker. */
export async function installProberImage(lab: Lab, hosts: LabHost[]): Promise<void> {
  await compileProber(lab);
  const tar = join(lab.dir, 'chaos-prober.tar');
  copyFileSync(await busyboxRootfsTar(lab.dir), tar + '.tmp');
  await run(['tar', '-rf', tar + '.tmp', '-C', join(lab.dir, 'prober-root'), './bin/prober']);
  renameSync(tar + '.tmp', tar);
  await Promise.all(hosts.map(async (h) => {
    mkdirSync(proberOutDir(lab, h), { recursive: true });
    await hostDocker(h, ['import', '--change', 'CMD ["/bin/sh"]', tar, PROBER_IMAGE], { check: true, timeoutMs: 120_000 });
  }));
}

export function writeTargets(lab: Lab, h: LabHost, targets: Target[]): void {
  const f = join(proberOutDir(lab, h), 'targets');
  writeFileSync(f + '.tmp', targets.map((t) => `${t.label} ${t.address}\n`).join(''));
  renameSync(f + '.tmp', f);
}

function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

export function readGaps(lab: Lab, hosts: LabHost[]): Gap[] {
  return hosts.flatMap((h) => lines(join(proberOutDir(lab, h), 'gaps')).map((l) => {
    const [at, flow, kind, lost, gapMs] = l.split(' ');
    return { at: Number(at), flow, kind: kind as Gap['kind'], lost: Number(lost), gapMs: Number(gapMs) };
  }));
}

export function readStatus(lab: Lab, hosts: LabHost[]): Map<string, FlowStatus> {
  const out = new Map<string, FlowStatus>();
  for (const h of hosts) {
    for (const l of lines(join(proberOutDir(lab, h), 'status'))) {
      const [flow, epoch, seq, received, lost, late, lastRx] = l.split(' ');
      out.set(flow, { flow, epoch: Number(epoch), seq: Number(seq), received: Number(received), lost: Number(lost), late: Number(late), lastRx: Number(lastRx) });
    }
  }
  return out;
}

/** Flows ("<from>><to>/<path>") that received nothing for `quietMs` (or never), at time `now`. */
export function silentFlows(status: Map<string, FlowStatus>, expected: string[], now: number, quietMs = 500): string[] {
  return expected.filter((f) => {
    const s = status.get(f);
    return !s || now - s.lastRx > quietMs;
  });
}
