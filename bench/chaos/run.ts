// `npm run chaos`: a three-host lab on a three-member etcd, traffic between containers on every
// pair of hosts, then one fault at a time; prints what each fault cost and exits 1 when anything
// was lost that the design says must not be (docs/faults.md). Root; everything it makes lives in
// its own namespaces, processes and lab directory, removed at the end, on failure and on SIGINT.
//
//   npm run chaos [-- --faults 1,4 --nics 500 --etcd-outage 60 --link-outage 30 --keep]
import { parseArgs } from 'node:util';
import { destroyLab, labDirFor } from '../../pkg/lab/index.js';
import { duplicateAddresses, waitSettled } from './checks.js';
import { ALL_FAULTS } from './faults/index.js';
import { parseFlow, type ChaosOptions, type Fault, type FaultContext, type Injected } from './faults/types.js';
import { buildChaosLab, closeChaosLab, newLabId, type ChaosLab } from './lab.js';
import { installProberImage, readGaps, readStatus, silentFlows } from './prober.js';
import { pollsWorthListing, details, lossByPair, tableMarkdown, violations, type FaultResult } from './report.js';
import { sleep, startWorkload } from './workload.js';

const SETTLE_LIMIT_MS = 60_000;
const BASELINE_MS = 10_000;
const T0 = Date.now();
const say = (s: string) => console.log(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${s}`);

/** A bad flag: printed as one line, without a stack (exit 2). */
class UsageError extends Error {}

function options() {
  const { values } = parseArgs({
    options: {
      faults: { type: 'string', default: ALL_FAULTS.map((f) => f.id).join(',') },
      nics: { type: 'string', default: '2000' },
      'etcd-outage': { type: 'string', default: '60' },
      'link-outage': { type: 'string', default: '30' },
      'max-minutes': { type: 'string', default: '30' },
      keep: { type: 'boolean', default: false },
    },
  });
  const faults = values.faults!.split(',').map((id) => {
    const f = ALL_FAULTS.find((x) => String(x.id) === id.trim());
    if (!f) throw new UsageError(`--faults: no fault "${id}" (1..${ALL_FAULTS.length})`);
    return f;
  });
  const opts: ChaosOptions = { nics: Number(values.nics), etcdOutageMs: Number(values['etcd-outage']) * 1000, linkOutageMs: Number(values['link-outage']) * 1000 };
  return { faults, opts, keep: values.keep!, maxMs: Number(values['max-minutes']) * 60_000 };
}

/** Runs one fault (or, with none, a quiet baseline) and judges it. */
async function runFault(ctx: FaultContext, allFlows: string[], fault: Fault | undefined): Promise<FaultResult> {
  const start = Date.now();
  // a flow an earlier fault left stopped is reported once, not blamed on every later fault
  const down = silentFlows(readStatus(ctx.c.lab, ctx.c.hosts), allFlows, start);
  const flows = allFlows.filter((f) => !down.includes(f));
  say(fault ? `fault ${fault.id}: ${fault.title}` : `baseline: ${BASELINE_MS / 1000} s without a fault`);
  // a fault that could not be injected or undone (e.g. dockerd not starting again) is a row, not the end of the run
  const inj: Injected = fault
    ? await fault.inject(ctx).catch((e): Injected => ({ end: Date.now(), violations: [`the fault could not run to its end: ${(e as Error).message.split('\n')[0]}`] }))
    : await sleep(BASELINE_MS).then(() => ({ end: Date.now() }));
  const settled = await waitSettled(ctx.c, flows, inj.end, SETTLE_LIMIT_MS, inj.settled);
  const later = await inj.afterSettled?.().catch((e) => [`(could not gather: ${(e as Error).message})`]) ?? [];
  for (const line of later) say(`  ${line}`);
  await sleep(1500); // a gap is written when the first packet after it arrives
  const dups = await duplicateAddresses(ctx.c).catch((e) => [`(could not read containers: ${(e as Error).message})`]);
  const gaps = readGaps(ctx.c.lab, ctx.c.hosts).filter((g) => g.at >= start && flows.includes(g.flow));
  const hit = gaps.filter((g) => inj.affected?.(parseFlow(g.flow)));
  const v = violations(gaps, inj, settled, dups);
  const r: FaultResult = {
    id: fault?.id ?? 0, title: fault?.title ?? 'none (baseline)', durationMs: Date.now() - start,
    pairs: lossByPair(gaps.filter((g) => !hit.includes(g)), flows),
    affectedLoss: { lost: hit.reduce((a, g) => a + g.lost, 0), longestGapMs: Math.max(0, ...hit.map((g) => g.gapMs)) },
    dups, settled, violations: v, notes: [...(down.length ? [`already silent before this fault (not judged here): ${down.join(', ')}`] : []), ...(inj.notes ?? []), ...later],
  };
  say(`  ${v.length ? `${v.length} violation(s)` : 'ok'}; converged ${settled.convergeMs === undefined ? 'no' : `after ${(settled.convergeMs / 1000).toFixed(1)} s`} (verify of every host took ${((settled.checkMs ?? 0) / 1000).toFixed(1)} s)`);
  for (const line of v.slice(0, 10)) say(`  - ${line}`);
  if (settled.waitedOn) say(`  (last waited for: ${settled.waitedOn})`);
  if (pollsWorthListing(settled)) for (const p of settled.polls) say(`  poll at ${p}`);
  return r;
}

async function main(): Promise<number> {
  const { faults, opts, keep, maxMs } = options();
  const id = newLabId();
  let c: ChaosLab | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () => (cleaning ??= (async () => {
    await closeChaosLab(c).catch(() => {});
    if (keep) { say(`lab kept in ${labDirFor(id)} (remove: XNET_LAB_DIR=${labDirFor(id)} xctl lab down)`); return; }
    say('removing the lab');
    await destroyLab(labDirFor(id)).catch((e) => say(`lab removal: ${(e as Error).message}`));
  })());
  const bail = (code: number, why: string) => { say(why); void cleanup().finally(() => process.exit(code)); };
  process.on('SIGINT', () => bail(130, 'interrupted'));
  process.on('SIGTERM', () => bail(143, 'terminated'));
  setTimeout(() => bail(3, `time limit of ${maxMs / 60_000} min reached`), maxMs).unref();
  try {
    say(`lab ${id}: building 3 hosts, 3 etcd members, 2 controllers`);
    c = await buildChaosLab(id, { hosts: 3, controllers: 2, say });
    await installProberImage(c.lab, c.hosts);
    await startWorkload(c, say);
    const flows = c.hosts.flatMap((h) => c!.hosts.filter((p) => p !== h).flatMap((p) => ['eth0', 'eth1', 'mv'].map((path) => `${h.name}>${p.name}/${path}`)));
    const ctx: FaultContext = { c, opts, say };
    const first = await waitSettled(c, flows, Date.now(), 180_000);
    say(first.convergeMs === undefined ? `the lab did not settle within 180 s: ${first.waitedOn}` : `lab settled (traffic on every flow, every object Ready, ipam check clean) after ${(first.convergeMs / 1000).toFixed(1)} s; verify: ${first.diffs.length} difference(s)`);
    const results = [await runFault(ctx, flows, undefined)];
    for (const f of faults) results.push(await runFault(ctx, flows, f));
    console.log(`\n${tableMarkdown(results)}\n\n${details(results)}\n`);
    console.log(`run: ${faults.map((f) => f.id).join(',')}; ${opts.nics} NICs in fault 3; etcd outage ${opts.etcdOutageMs / 1000} s; link outage ${opts.linkOutageMs / 1000} s; ${((Date.now() - T0) / 60_000).toFixed(1)} min`);
    return results.some((r) => r.violations.length) ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(`chaos: ${e instanceof UsageError ? e.message : (e as Error).stack ?? e}`);
  process.exit(2);
});
