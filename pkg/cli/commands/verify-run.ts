// What `xctl verify` and `xctl lab verify` run (registered in verify.ts, loaded when one runs):
// declared state against what each host's kernel and Docker hold (pkg/verify), one line per
// difference, exit 1 on any.
// Three sources: the agents' reports of their observed state (plain `verify`, from anywhere),
// this host read directly (`--local`), every lab host read directly (`lab verify`).
import { defaultLabDir, readRecord } from '../../lab/record.js';
import { readObservedReports } from '../../verify/report.js';
import { staleLines, staleReports, type StaleReport } from '../../verify/report-age.js';
import { unboundObjects } from '../../verify/unbound.js';
import { formatDifferences, verifyHost, type Difference, type VerifyHostOptions } from '../../verify/verify.js';
import { labIpamPlugin } from '../../lab/services.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import { skippedLines } from '../format.js';
import { defaultNodeName } from '../node-name.js';

export interface VerifyOptions {
  node?: string; local?: boolean; lab?: boolean; ipamPlugin?: string;
  /** with --local: the agent's --state-dir, where its record of the networks it made is */
  stateDir?: string;
}

/** The hosts to read directly: this one (--local), or the lab's. */
function targets(opts: VerifyOptions): Omit<VerifyHostOptions, 'store'>[] {
  if (opts.local) return [{ node: opts.node ?? defaultNodeName(), ipamPlugin: opts.ipamPlugin, ...(opts.stateDir ? { stateDir: opts.stateDir } : {}) }];
  const rec = readRecord(defaultLabDir());
  if (!rec) throw new UsageError('no lab is running here (`xctl lab up`); `xctl verify` reads the agents\' reports, `xctl verify --local` this host');
  const hosts = rec.hosts.filter((h) => !opts.node || h.name === opts.node);
  if (!hosts.length) throw new CliError(EXIT.NOT_FOUND, `no host ${opts.node} in the lab (hosts: ${rec.hosts.map((h) => h.name).join(', ')})`);
  return hosts.map((h) => ({ node: h.name, netns: h.netns, dockerHost: h.dockerHost, ipamPlugin: labIpamPlugin(h), stateDir: h.dir }));
}

interface HostsRead { hosts: string[]; diffs: Difference[]; /** reports not fresh, by node (agents' reports only) */ stale?: Map<string, StaleReport> }

async function readHosts(session: Session, opts: VerifyOptions): Promise<HostsRead> {
  const hosts = targets(opts);
  const diffs: Difference[] = [];
  for (const h of hosts) diffs.push(...await verifyHost({ ...h, store: session.store() }));
  return { hosts: hosts.map((h) => h.node), diffs };
}

const NO_REPORT = 'none: its agent is not running or cannot reach etcd';

/** What each Node's agent last reported, and which reports are not fresh; a Node with no report is itself a difference. */
async function readReports(session: Session, io: CliIO, opts: VerifyOptions): Promise<HostsRead> {
  const nodes = (await session.store().list('Node')).items.map((n) => n.metadata.name).filter((n) => !opts.node || n === opts.node);
  if (opts.node && !nodes.length) throw new CliError(EXIT.NOT_FOUND, `Node "${opts.node}" not found`);
  const { reports, leases, skipped } = await readObservedReports(session.client());
  io.err(skippedLines(skipped));
  const diffs: Difference[] = [];
  for (const node of nodes) {
    const r = reports.get(node);
    if (!r) { diffs.push({ host: node, what: 'agent report', expected: 'a report of its observed state', found: NO_REPORT }); continue; }
    // a node speaks for itself only: its report's lines are its own host's
    diffs.push(...r.differences.map((d) => ({ ...d, host: node })));
    if (r.total > r.differences.length) diffs.push({ host: node, what: 'agent report', expected: 'every difference listed', found: `${r.total - r.differences.length} more not listed` });
  }
  const wanted = new Set(nodes);
  const stale = await staleReports(session.client(), new Map([...leases].filter(([n]) => wanted.has(n))));
  return { hosts: nodes, diffs, stale };
}

/**
 * The line of a clean verify: what the hosts hold (read directly) or what their agents report;
 * a report that is not fresh says how old it is (`host-1 (report 8 s old)`).
 */
export function noDifferencesLine(hosts: string[], direct: boolean, stale = new Map<string, StaleReport>()): string {
  const one = hosts.length === 1;
  const verb = direct ? (one ? 'holds' : 'hold') : (one ? 'reports it holds' : 'report they hold');
  const named = hosts.map((h) => (stale.has(h) ? `${h} (report ${stale.get(h)!.age} s old)` : h));
  return `no differences: ${named.join(', ')} ${verb} what etcd declares\n`;
}

export async function verifyCommand(session: Session, io: CliIO, opts: VerifyOptions): Promise<number> {
  const direct = !!(opts.local || opts.lab);
  const { hosts, diffs, stale } = direct ? await readHosts(session, opts) : await readReports(session, io, opts);
  // the whole cluster read (no --node, not --local): what is declared for a node no Node has too
  if (!opts.node && !opts.local) diffs.push(...await unboundObjects(session.store()));
  // said whatever the result, and changing no exit code: an old report is no difference found
  if (stale?.size) io.err(staleLines(stale));
  if (!diffs.length) {
    io.out(noDifferencesLine(hosts, direct, stale));
    return EXIT.OK;
  }
  io.out(formatDifferences(diffs));
  io.err(`${diffs.length} difference(s)\n`);
  return EXIT.FAILED;
}
