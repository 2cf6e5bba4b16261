// `xctl topology [-o text|dot|svg]`: the cluster drawn from etcd (pkg/topology). svg pipes the
// DOT through Graphviz's `dot` when it is installed and says how to install it when not.
import type { Command } from 'commander';
import type { ClusterNetwork, ContainerNic, HostSubnet, MacvlanNet, Node } from '../../api/index.js';
import { renderDot, renderText, type Cluster } from '../../topology/render.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import type { RegisterCommand } from '../command.js';
import { skippedLines } from '../format.js';

const DOT_TIMEOUT_MS = 30_000;

async function readCluster(session: Session, io: CliIO): Promise<Cluster> {
  const s = session.store();
  const lists = await Promise.all((['Node', 'ClusterNetwork', 'HostSubnet', 'ContainerNic', 'MacvlanNet'] as const).map((k) => s.list(k)));
  for (const l of lists) io.err(skippedLines(l.skipped));
  const [nodes, clusterNetworks, hostSubnets, nics, macvlanNets] = lists.map((l) => l.items);
  return { nodes: nodes as Node[], clusterNetworks: clusterNetworks as ClusterNetwork[], hostSubnets: hostSubnets as HostSubnet[], nics: nics as ContainerNic[], macvlanNets: macvlanNets as MacvlanNet[] };
}

/** What `topology -o` takes (also what completion offers after it). */
export const TOPOLOGY_OUTPUTS = ['text', 'dot', 'svg'];

export async function topologyCommand(session: Session, io: CliIO, output = 'text'): Promise<number> {
  if (!TOPOLOGY_OUTPUTS.includes(output)) throw new UsageError(`unknown output format "${output}"; use text, dot or svg`);
  const cluster = await readCluster(session, io);
  if (output === 'text') { io.out(renderText(cluster)); return EXIT.OK; }
  const dot = renderDot(cluster);
  if (output === 'dot') { io.out(dot); return EXIT.OK; }
  try {
    // execa is loaded here, for svg only: it is a hundred files xctl's other commands never use
    const { execa } = await import('execa');
    const r = await execa('dot', ['-Tsvg'], { input: dot, timeout: DOT_TIMEOUT_MS });
    io.out(r.stdout + '\n');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') {
      throw new CliError(EXIT.FAILED, 'rendering SVG needs Graphviz\'s `dot`, which is not installed: apt-get install graphviz (or use -o dot and render it elsewhere)');
    }
    throw new CliError(EXIT.FAILED, `dot -Tsvg failed: ${(e as Error).message}`);
  }
  return EXIT.OK;
}

export const registerTopology: RegisterCommand = (program, { io, run }) => {
  program.command('topology')
    .description('hosts, subnets, routes, NICs and macvlan segments, as text, Graphviz DOT or SVG')
    .option('-o, --output <format>', 'text (default), dot or svg (needs Graphviz)', 'text')
    .action((opts: { output: string }, cmd: Command) => run((s) => topologyCommand(s, io, opts.output), cmd));
};
