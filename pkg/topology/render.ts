// `xctl topology`: the cluster as etcd declares and reports it, drawn as text or Graphviz DOT.
// Pure: objects in, text out. Hosts sit on their underlay; each host holds its HostSubnets
// (subnet, bridge) and the NICs of its containers; every HostSubnet is routed from the other
// hosts via its node's address; MacvlanNets are segments joined by their nodes (parent, shim).
// Ready objects are green, the rest red.
import { isReady, type ClusterNetwork, type ContainerNic, type HostSubnet, type MacvlanNet, type Node } from '../api/index.js';

export interface Cluster {
  nodes: Node[];
  clusterNetworks: ClusterNetwork[];
  hostSubnets: HostSubnet[];
  nics: ContainerNic[];
  macvlanNets: MacvlanNet[];
}

const mark = (o: { status?: { conditions?: { type: string; status: string }[] } }) => (isReady(o as never) ? 'Ready' : 'NotReady');
const colour = (o: { status?: unknown }) => (isReady(o as never) ? 'darkgreen' : 'red');
// labels carry DOT's own \n escapes; names are DNS labels, so only quotes need escaping
const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
const addressOf = (n: Node) => (n.status?.address ?? n.spec.address ?? '?') as string;

export function renderText(c: Cluster): string {
  const out: string[] = [];
  for (const n of c.nodes) {
    out.push(`node ${n.metadata.name} ${addressOf(n)} [${mark(n)}]`);
    for (const hs of c.hostSubnets.filter((h) => h.spec.node === n.metadata.name)) {
      // what the controller allocated, never a pinned spec it may have refused (as `xctl get`)
      out.push(`  subnet ${hs.status?.subnet ?? '<pending>'} bridge ${hs.status?.bridge ?? '<pending>'} (${hs.spec.clusterNetwork}) [${mark(hs)}]`);
      const peers = c.nodes.filter((p) => p.metadata.name !== n.metadata.name).map((p) => p.metadata.name);
      if (peers.length && hs.status?.subnet) out.push(`    routed from ${peers.join(', ')} via ${hs.status.nodeAddress ?? addressOf(n)}`);
    }
    for (const nic of c.nics.filter((x) => x.spec.node === n.metadata.name)) {
      const net = nic.spec.network.clusterNetwork ?? `macvlan ${nic.spec.network.macvlanNet}`;
      out.push(`  container ${nic.spec.container} ${nic.spec.ifName} ${nic.status?.ip ?? '<pending>'} on ${net} [${mark(nic)}]`);
    }
  }
  for (const m of c.macvlanNets) {
    const members = (m.status?.nodes ?? []).map((s) => `${s.name}${s.parent ? `:${s.parent}` : ''}${s.shimAddress ? ` shim ${s.shimAddress}` : ''}`);
    out.push(`macvlan ${m.metadata.name} ${m.spec.subnet}${m.spec.vlan ? ` vlan ${m.spec.vlan}` : ''} nodes ${members.join(', ') || '-'} [${mark(m)}]`);
  }
  return out.join('\n') + '\n';
}

export function renderDot(c: Cluster): string {
  const out = ['graph xnet {', '  rankdir=LR; node [shape=box, fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=10];',
    '  underlay [label="underlay", shape=ellipse];'];
  for (const n of c.nodes) {
    const id = `node_${n.metadata.name}`;
    out.push(`  subgraph ${q(`cluster_${n.metadata.name}`)} {`, `    label=${q(`${n.metadata.name} ${addressOf(n)}`)}; color=${colour(n)};`);
    out.push(`    ${q(id)} [label=${q(`${n.metadata.name}\\n${addressOf(n)}`)}, color=${colour(n)}];`);
    for (const hs of c.hostSubnets.filter((h) => h.spec.node === n.metadata.name)) {
      out.push(`    ${q(`hs_${hs.metadata.name}`)} [label=${q(`${hs.status?.bridge ?? '<pending>'}\\n${hs.status?.subnet ?? '<pending>'}`)}, color=${colour(hs)}];`);
      out.push(`    ${q(id)} -- ${q(`hs_${hs.metadata.name}`)};`);
    }
    for (const nic of c.nics.filter((x) => x.spec.node === n.metadata.name)) {
      const nid = `nic_${nic.metadata.name}`;
      out.push(`    ${q(nid)} [label=${q(`${nic.spec.container}:${nic.spec.ifName}\\n${nic.status?.ip ?? '<pending>'}`)}, shape=oval, color=${colour(nic)}];`);
      const hs = c.hostSubnets.find((h) => h.spec.node === n.metadata.name && h.spec.clusterNetwork === nic.spec.network.clusterNetwork);
      if (hs) out.push(`    ${q(`hs_${hs.metadata.name}`)} -- ${q(nid)};`);
      else if (nic.spec.network.macvlanNet) out.push(`    ${q(nid)} -- ${q(`mvn_${nic.spec.network.macvlanNet}`)} [style=dashed];`);
    }
    out.push('  }', `  underlay -- ${q(id)};`);
  }
  for (const hs of c.hostSubnets) {
    if (!hs.status?.subnet) continue;
    for (const p of c.nodes.filter((x) => x.metadata.name !== hs.spec.node)) {
      out.push(`  ${q(`node_${p.metadata.name}`)} -- ${q(`hs_${hs.metadata.name}`)} [style=dotted, label=${q(`route via ${hs.status.nodeAddress ?? '?'}`)}];`);
    }
  }
  for (const m of c.macvlanNets) {
    out.push(`  ${q(`mvn_${m.metadata.name}`)} [label=${q(`macvlan ${m.metadata.name}\\n${m.spec.subnet}`)}, shape=hexagon, color=${colour(m)}];`);
    for (const s of m.status?.nodes ?? []) {
      out.push(`  ${q(`node_${s.name}`)} -- ${q(`mvn_${m.metadata.name}`)} [label=${q(`${s.parent ?? ''}${s.shimAddress ? ` shim ${s.shimAddress}` : ''}`)}, color=${s.ready ? 'darkgreen' : 'red'}];`);
    }
  }
  out.push('}');
  return out.join('\n') + '\n';
}
