// Endpoints of the user's running lab, so `xctl get ...` talks to it without flags.
import { defaultLabDir, readRecord } from './record.js';

export function runningLabEndpoints(): string[] | undefined {
  try {
    const rec = readRecord(defaultLabDir());
    return rec?.endpoints?.length ? rec.endpoints : undefined;
  } catch {
    return undefined;
  }
}
