// Is a ContainerNic's Ready about the container as it runs now? `docker restart` keeps the
// container's id, and an agent that has not looked yet still shows the Ready it wrote for the
// container's previous life (chaos fault 7 once read such a Ready as "settled" and a verify
// found the NIC half-way through being made). A Ready counts only when the status names the
// running container's id and turned True after that container started.
import type { AnyObject } from '../../pkg/api/index.js';
import { getCondition } from '../../pkg/api/conditions.js';
import type { Condition } from '../../pkg/api/fields.js';
import { hostDocker } from '../../pkg/lab/index.js';
import type { ChaosHost } from './lab.js';

export interface RunningContainer { id: string; startedAt: number }

/** The named containers running on a host (one `docker inspect` for all), by name. */
export async function runningContainers(h: ChaosHost, names: string[]): Promise<Map<string, RunningContainer>> {
  const out = new Map<string, RunningContainer>();
  if (names.length === 0) return out;
  const r = await hostDocker(h, ['inspect', '-f', '{{.Name}} {{.Id}} {{.State.Running}} {{.State.StartedAt}}', ...names], { timeoutMs: 10_000 });
  for (const line of r.stdout.split('\n')) {
    const [name, id, running, startedAt] = line.trim().split(' ');
    if (running === 'true' && id) out.set(name.replace(/^\//, ''), { id, startedAt: Date.parse(startedAt) });
  }
  return out;
}

/** Why a Ready ContainerNic's status is not about its container as it runs now; undefined when it is. */
export function staleNicReady(nic: AnyObject, running: RunningContainer | undefined): string | undefined {
  const container = (nic.spec as { container: string }).container;
  const status = nic.status as { containerId?: string; conditions?: Condition[] } | undefined;
  const name = `ContainerNic ${nic.metadata.name}`;
  if (!running) return `${name}: container ${container} is not running`;
  if (status?.containerId !== running.id) return `${name}: status names container ${status?.containerId?.slice(0, 12) ?? 'none'}, ${container} is ${running.id.slice(0, 12)}`;
  const since = Date.parse(getCondition(status.conditions, 'Ready')?.lastTransitionTime ?? '');
  if (!(since >= running.startedAt)) return `${name}: Ready since before ${container} started (a Ready of its previous life)`;
  return undefined;
}

/** The first lab NIC whose Ready is not about its running container, per host; undefined: none. */
export async function staleNicsReady(hosts: ChaosHost[], nics: AnyObject[]): Promise<string | undefined> {
  const found = await Promise.all(hosts.map(async (h) => {
    const mine = nics.filter((n) => (n.spec as { node?: string }).node === h.name);
    const running = await runningContainers(h, [...new Set(mine.map((n) => (n.spec as { container: string }).container))]);
    for (const n of mine) {
      const why = staleNicReady(n, running.get((n.spec as { container: string }).container));
      if (why) return why;
    }
    return undefined;
  }));
  return found.find((x) => x !== undefined);
}
