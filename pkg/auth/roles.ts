// Who may touch which etcd keys: the one place the etcd roles are defined, computed from the
// key layout (pkg/store/keys.ts). A helper that adds keys a node writes adds them here, and
// `xctl auth init|add-node` and the lab grant exactly this.
import { Keys } from '../store/keys.js';
import { nodeViewPrefixes } from '../store/node-view.js';
import { name as nameSchema } from '../api/fields.js';
import { ValidationError } from '../errors.js';

export type Access = 'read' | 'write' | 'readwrite';

/** One etcd permission: a single key, or every key starting with `key` when prefix is true. */
export interface Grant {
  access: Access;
  key: string;
  prefix: boolean;
}

/** An etcd role; each xnet identity is a user of the same name holding only that role. */
export interface RoleSpec {
  name: string;
  grants: Grant[];
}

/** etcd's superuser: the only identity that changes users, roles and `auth enable`. */
export const ROOT_USER = 'root';
export const CONTROLLER_USER = 'xnet-controller';
export const ADMIN_USER = 'xnet-admin';
const NODE_USER_PREFIX = 'node-';

export class InvalidNodeNameError extends ValidationError {
  constructor(readonly node: string, why: string) {
    super('InvalidNodeName', `node name "${node}": ${why}`);
  }
}

/** The etcd user (and certificate CN) of a node's agent. */
export function nodeUser(node: string): string {
  const r = nameSchema.safeParse(node);
  if (!r.success) throw new InvalidNodeNameError(node, r.error.issues[0].message);
  return NODE_USER_PREFIX + node;
}

/** The node an etcd user stands for, if it is a node's user. */
export function nodeOfUser(user: string): string | undefined {
  return user.startsWith(NODE_USER_PREFIX) ? user.slice(NODE_USER_PREFIX.length) : undefined;
}

const prefix = (access: Access, key: string): Grant => ({ access, key, prefix: true });
const exact = (access: Access, key: string): Grant => ({ access, key, prefix: false });

/** The controller decides everything: objects' status, IPAM, the election, Node creation. */
export function controllerRole(keys = new Keys()): RoleSpec {
  return { name: CONTROLLER_USER, grants: [prefix('readwrite', `${keys.prefix}/`)] };
}

/**
 * What xctl uses: reads everything (get, describe, ipam check, events) and writes the
 * registry. Writing objects is its job; it also writes status keys because deleting an object
 * removes the object's status keys (the controller's in the same transaction, the nodes' right
 * after it: store/status-cleanup.ts), the nodes' observed-state reports, which a Node's delete
 * takes in its transaction (store/write-plan.ts removalOps), and the node index, whose copies
 * it writes with the objects they copy.
 * It never writes IPAM claims, leases or the election key.
 */
export function adminRole(keys = new Keys()): RoleSpec {
  return {
    name: ADMIN_USER,
    grants: [
      prefix('read', `${keys.prefix}/`), prefix('readwrite', keys.objects()), prefix('readwrite', keys.statusRoot()), prefix('readwrite', keys.nodeIndexRoot()),
      prefix('readwrite', keys.nodeObserved('')),
    ],
  };
}

/**
 * A node's agent reads what it watches (store/node-view.ts: the objects every host needs, the
 * controller's HostSubnet and MacvlanNet status, its own index of ContainerNics and MacvlanNet parts, its own Node) and
 * writes only its own status subtree, its own heartbeat key, its own events and its own
 * observed-state report (pkg/verify/report.ts). It reads no
 * other node's NICs or reports; it cannot write any object, another node's keys, IPAM claims
 * or the election key, and a delete by prefix reaching outside these keys is refused as a whole.
 */
export function nodeRole(node: string, keys = new Keys()): RoleSpec {
  const reads = nodeViewPrefixes(keys, node).filter((p) => p !== keys.nodeStatuses(node));
  return {
    name: nodeUser(node),
    grants: [
      ...reads.map((p) => prefix('read', p)),
      // its own Node as `xctl get` shows it (the agent reads it once when it registers)
      exact('read', keys.status('Node', node, { controller: true })),
      prefix('readwrite', keys.nodeStatuses(node)),
      exact('readwrite', keys.nodeLease(node)),
      prefix('readwrite', keys.nodeEvents(node)),
      exact('readwrite', keys.nodeObserved(node)),
    ],
  };
}

/** The fixed identities `xctl auth init` creates; node identities come from add-node. */
export function clusterRoles(keys = new Keys()): RoleSpec[] {
  return [controllerRole(keys), adminRole(keys)];
}
