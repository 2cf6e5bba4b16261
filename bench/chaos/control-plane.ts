// The chaos lab's controllers seen from outside: who leads (their xnet_leader gauge), and
// killing or restarting one by its recorded PID.
import { killLabProcess, startController } from '../../pkg/lab/index.js';
import { readRecord } from '../../pkg/lab/record.js';
import { sample, scrape } from '../../test/harness/scrape.js';
import type { ChaosLab } from './lab.js';

/** The number (1, 2...) of the controller whose xnet_leader is 1, if any answers so. */
export async function controllerLeader(c: ChaosLab): Promise<number | undefined> {
  const rec = readRecord(c.lab.dir)!;
  for (let n = 1; n <= c.controllers; n++) {
    const url = rec.processes.find((p) => p.id === `controller/${n}`)?.metrics;
    if (!url) continue;
    const text = await scrape(url).catch(() => '');
    if (sample(text, 'xnet_leader') === 1) return n;
  }
  return undefined;
}

/** SIGKILL, then a fresh process in its place (same flags, same clock). */
export async function killAndRestartController(c: ChaosLab, n: number): Promise<void> {
  if (!(await killLabProcess(c.lab, `controller/${n}`))) throw new Error(`controller/${n} was not running`);
  await startController(c.lab, n, c.etcd.endpoints, c.controllerEnv);
}
