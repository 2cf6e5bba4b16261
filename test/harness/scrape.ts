// Reading a daemon's Prometheus endpoint the way a scraper does: HTTP GET, text format.

export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: r.status, body: await r.text() };
}

/**
 * The sum of the samples of `name` whose labels include every pair in `labels`
 * (undefined when no sample matches). `name` is the full series name, e.g.
 * xnet_reconcile_duration_seconds_count.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

export async function scrape(metricsUrl: string): Promise<string> {
  const r = await httpGet(metricsUrl);
  if (r.status !== 200) throw new Error(`GET ${metricsUrl}: HTTP ${r.status}`);
  return r.body;
}
