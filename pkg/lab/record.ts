// The lab's record file: the list of everything it made, kept on disk so that `down` works
// from a fresh process, after a crash, and any number of times.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError } from './errors.js';
import type { LabRecord } from './types.js';

/** The user's lab (`xctl lab up`) */
export const DEFAULT_LAB_ID = 'xnet';

/** XNET_LAB_ID (with XNET_LAB_DIR) lets a test drive `xctl lab` without touching the user's lab. */
export function userLabId(): string {
  return process.env.XNET_LAB_ID ?? DEFAULT_LAB_ID;
}
export const RECORD_FILE = 'lab.json';

/**
 * /var/lib rather than /run: the record must survive the `xctl` process and name what to
 * remove even when the machine kept running after a crash; XNET_LAB_DIR moves it.
 */
export function defaultLabDir(): string {
  // a lab of another id (XNET_LAB_ID alone) has its own directory: sharing the user's, its
  // `lab down` took down the user's lab and the user's `lab up` found it "already up"
  return process.env.XNET_LAB_DIR ?? labDirFor(userLabId());
}

/** Labs other than the user's (tests) live in the temp dir, one directory per lab id. */
export function labDirFor(labId: string): string {
  return labId === DEFAULT_LAB_ID ? process.env.XNET_LAB_DIR ?? '/var/lib/xnet-lab' : join(tmpdir(), `xnet-lab-${labId}`);
}

// Short and plain because it prefixes namespace and cgroup names, and the lab's unix socket
// paths must stay under the kernel's 108-byte limit.
const LAB_ID = /^[a-z][a-z0-9]{0,15}$/;

export function checkLabId(labId: string): void {
  if (!LAB_ID.test(labId)) {
    throw new LabError('InvalidLabId', `lab id "${labId}" is not valid`, 'use 1-16 lowercase letters and digits, starting with a letter');
  }
}

export function recordPath(dir: string): string {
  return join(dir, RECORD_FILE);
}

export function readRecord(dir: string): LabRecord | undefined {
  const p = recordPath(dir);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as LabRecord;
  } catch (e) {
    throw new LabError('RecordUnreadable', `lab record ${p} cannot be read: ${(e as Error).message}`, 'remove the lab by hand: ip netns list, findmnt, ps');
  }
}

/** Written whole to a temp file and renamed, so a crash never leaves half a record. */
export function writeRecord(rec: LabRecord): void {
  mkdirSync(rec.dir, { recursive: true });
  const p = recordPath(rec.dir);
  writeFileSync(p + '.tmp', JSON.stringify(rec, null, 2) + '\n');
  renameSync(p + '.tmp', p);
}

/** Synchronous read-modify-write: callers in one process never interleave. */
export function updateRecord(dir: string, change: (rec: LabRecord) => void): LabRecord {
  const rec = readRecord(dir);
  if (!rec) throw new LabError('NoLab', `no lab record in ${dir}`, 'build the lab first');
  change(rec);
  writeRecord(rec);
  return rec;
}

export function newRecord(labId: string, dir: string): LabRecord {
  return { version: 1, labId, dir, createdAt: new Date().toISOString(), netns: [], hosts: [], processes: [], cgroupParents: [] };
}
