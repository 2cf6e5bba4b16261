// A watch the user leaves running (`get -w`, `get events -w`) ends when etcd stops answering:
// etcd3's watcher re-establishes a broken stream for ever and says nothing, so a `get -w`
// whose etcd had gone looked alive while no change could reach it. kubectl's watch likewise
// ends when its API server goes. A cheap read every PROBE_MS, each with its deadline; once
// none has answered for the give-up time (XCTL_WATCH_GIVE_UP_MS, default 30 s) the command
// fails as etcd unreachable (exit 5). The first miss is said on stderr.
// Any reply is an answer: a refusal (permission denied, say) comes from an etcd that runs, and
// only a deadline passed or a connection failure counts as a miss.
import type { Etcd3 } from 'etcd3';
import { EtcdUnavailableError } from '../errors.js';
import { fromEtcdError } from '../etcd/errors.js';
import { Keys } from '../store/keys.js';
import { withTimeout } from '../runtime/watch-wait.js';
import type { CliIO } from './io.js';

export const PROBE_MS = 5_000;
export const DEFAULT_WATCH_GIVE_UP_MS = 30_000;
/** a key no object has, under xnet's prefix (which xnet-admin may read): the read costs etcd a lookup */
const PROBE_KEY = `${new Keys().prefix}/watch-probe`;

export function watchGiveUpMs(env: Record<string, string | undefined>): number {
  const v = Number(env.XCTL_WATCH_GIVE_UP_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_WATCH_GIVE_UP_MS;
}

/** Resolves when `signal` aborts; rejects (EtcdUnavailableError) when etcd has not answered for the give-up time. */
export function whileEtcdAnswers(client: Etcd3, io: CliIO, signal: AbortSignal | undefined): Promise<void> {
  const giveUpMs = watchGiveUpMs(io.env);
  const every = Math.min(PROBE_MS, giveUpMs);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { resolve(); return; }
    let lastAnswer = Date.now();
    let missed = false;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => { clearTimeout(timer); resolve(); };
    signal?.addEventListener('abort', onAbort, { once: true });
    const probe = async () => {
      const ok = await withTimeout(client.get(PROBE_KEY).exec(), every, 'etcd probe').then(() => true, answered);
      if (signal?.aborted) return;
      if (ok) {
        if (missed) io.err('etcd answers again; the watch goes on\n');
        missed = false;
        lastAnswer = Date.now();
      } else {
        if (!missed) io.err(`warning: etcd does not answer; the watch ends unless it answers within ${Math.round(giveUpMs / 1000)} s\n`);
        missed = true;
        const silent = Date.now() - lastAnswer;
        if (silent >= giveUpMs) {
          signal?.removeEventListener('abort', onAbort);
          reject(new EtcdUnavailableError(`no answer for ${Math.round(silent / 1000)} s, so the watch ended; run the command again once etcd is back`));
          return;
        }
      }
      timer = setTimeout(() => void probe(), every);
    };
    timer = setTimeout(() => void probe(), every);
  });
}

/** Whether a failed probe still heard from etcd: any error but a deadline passed or a connection that failed. */
export function answered(e: unknown): boolean {
  if (e instanceof Error && /^etcd probe timed out/.test(e.message)) return false;
  const x = fromEtcdError(e);
  return x !== undefined && !(x instanceof EtcdUnavailableError);
}
