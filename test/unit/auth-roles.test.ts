// The roles of pkg/auth/roles.ts, computed from the key layout: what each identity may touch.
import { describe, expect, it } from 'vitest';
import { adminRole, controllerRole, nodeRole, nodeUser } from '../../pkg/auth/roles.js';
import { Keys } from '../../pkg/store/keys.js';

describe('etcd roles', () => {
  it("a node writes only its own status subtree, heartbeat key, events and observed-state report, and reads only what concerns it", () => {
    const r = nodeRole('host-1', new Keys('/p'));
    expect(r.name).toBe('node-host-1');
    expect(r.grants).toEqual([
      { access: 'read', key: '/p/registry/objects/nodes/', prefix: true },
      { access: 'read', key: '/p/registry/objects/hostsubnets/', prefix: true },
      { access: 'read', key: '/p/registry/objects/clusternetworks/', prefix: true },
      { access: 'read', key: '/p/registry/objects/macvlannets/', prefix: true },
      { access: 'read', key: '/p/registry/status/controller/hostsubnets/', prefix: true },
      { access: 'read', key: '/p/registry/status/controller/macvlannets/', prefix: true },
      // its own ContainerNics (objects and allocations), no other node's
      { access: 'read', key: '/p/registry/bynode/host-1/', prefix: true },
      { access: 'read', key: '/p/registry/status/controller/nodes/host-1', prefix: false },
      { access: 'readwrite', key: '/p/registry/status/nodes/host-1/', prefix: true },
      { access: 'readwrite', key: '/p/leases/nodes/host-1', prefix: false },
      { access: 'readwrite', key: '/p/events/nodes/host-1/', prefix: true },
      { access: 'readwrite', key: '/p/observed/nodes/host-1', prefix: false },
    ]);
  });

  it("the admin writes the registry and the nodes' observed-state reports (a Node's delete takes its own) only; the controller the whole prefix", () => {
    const writes = adminRole().grants.filter((g) => g.access !== 'read').map((g) => g.key);
    expect(writes).toEqual(['/xnet/registry/objects/', '/xnet/registry/status/', '/xnet/registry/bynode/', '/xnet/observed/nodes/']);
    expect(controllerRole().grants).toEqual([{ access: 'readwrite', key: '/xnet/', prefix: true }]);
  });

  it('a node name that is not a DNS-1123 label never becomes a user', () => {
    expect(() => nodeUser('host-1/../x')).toThrow(/node name "host-1\/..\/x"/);
    expect(() => nodeUser('')).toThrow();
  });
});
