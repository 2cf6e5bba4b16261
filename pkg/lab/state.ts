// The user's running lab as xctl's default etcd: its endpoints and the admin identity, so
// `xctl get nodes` just works after `xctl lab up`.
import { defaultLabDir, readRecord } from './record.js';
import type { LabAuth } from './types.js';

export interface LabConnection {
  endpoints: string[];
  /** absent when the lab uses an etcd it was given */
  cacert?: string;
  cert?: string;
  key?: string;
}

export function runningLabConnection(): LabConnection | undefined {
  try {
    const rec = readRecord(defaultLabDir());
    if (!rec?.endpoints?.length) return undefined;
    const a = rec.auth;
    return { endpoints: rec.endpoints, ...(a ? { cacert: a.ca, cert: a.admin.cert, key: a.admin.key } : {}) };
  } catch {
    return undefined;
  }
}

export function runningLabEndpoints(): string[] | undefined {
  return runningLabConnection()?.endpoints;
}

/** The running lab's CA and identities (auth commands act as its root). */
export function runningLabAuth(): LabAuth | undefined {
  try {
    return readRecord(defaultLabDir())?.auth;
  } catch {
    return undefined;
  }
}
