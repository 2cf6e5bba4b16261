// The ifindex of each veth NIC's host end as last put in place. `ip monitor` names a link by its
// name of the moment: a host end renamed by hand is reported under a name that names no NIC, so
// its event is mapped to the NIC by ifindex (ifindexes are not reused soon within a namespace,
// and an extra reconcile of a NIC changes nothing anyway).
export class HostEnds {
  private readonly byIfindex = new Map<number, string>();
  private readonly byNic = new Map<string, number>();

  /** `ifindex`: the host end's now; undefined: the NIC has none (a macvlan, or gone) */
  set(nic: string, ifindex: number | undefined): void {
    const had = this.byNic.get(nic);
    if (had === ifindex) return;
    if (had !== undefined) { this.byIfindex.delete(had); this.byNic.delete(nic); }
    if (ifindex === undefined) return;
    const other = this.byIfindex.get(ifindex);
    if (other !== undefined) this.byNic.delete(other);
    this.byIfindex.set(ifindex, nic);
    this.byNic.set(nic, ifindex);
  }

  nicOf(ifindex: number): string | undefined {
    return this.byIfindex.get(ifindex);
  }
}
