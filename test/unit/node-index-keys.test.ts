// Where a ContainerNic's controller status is kept (its node's index, nowhere else) and how a
// key there is told from the object copies beside it: the rule every reader and writer uses.
import { describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';

const keys = new Keys('/xnet');

describe('node index keys', () => {
  it('keeps an indexed kind\'s controller status in its node\'s index, other kinds\' under status/controller/', () => {
    expect(keys.controllerStatus('ContainerNic', 'a', 'n1')).toBe('/xnet/registry/bynode/n1/status/controller/containernics/a');
    expect(keys.controllerStatus('ContainerNic', 'nic-7', 'host-2')).toBe(keys.indexed('host-2', keys.status('ContainerNic', 'nic-7', { controller: true })));
    // bound to no node: nowhere to keep one
    expect(keys.controllerStatus('ContainerNic', 'a', undefined)).toBeUndefined();
    expect(keys.controllerStatus('HostSubnet', 'default-n1', 'n1')).toBe('/xnet/registry/status/controller/hostsubnets/default-n1');
    expect(keys.controllerStatus('Node', 'n1', undefined)).toBe(keys.status('Node', 'n1', { controller: true }));
  });

  it('parses a status in a node\'s index, and nothing else there or elsewhere', () => {
    expect(keys.parseIndexedStatus('/xnet/registry/bynode/n1/status/controller/containernics/a')).toEqual({ node: 'n1', kind: 'ContainerNic', name: 'a' });
    expect(keys.parseIndexedStatus(keys.indexed('n1', keys.object('ContainerNic', 'a')))).toBeUndefined();
    expect(keys.parseIndexedStatus(keys.status('ContainerNic', 'a', { controller: true }))).toBeUndefined();
    // a kind that is not indexed, a deeper key, no name, no node: not a status of the index
    expect(keys.parseIndexedStatus('/xnet/registry/bynode/n1/status/controller/hostsubnets/h')).toBeUndefined();
    expect(keys.parseIndexedStatus('/xnet/registry/bynode/n1/status/controller/containernics/a/b')).toBeUndefined();
    expect(keys.parseIndexedStatus('/xnet/registry/bynode/n1/status/controller/containernics/')).toBeUndefined();
    expect(keys.parseIndexedStatus('/xnet/registry/bynode//status/controller/containernics/a')).toBeUndefined();
    expect(keys.parseIndexedStatus('/other/registry/bynode/n1/status/controller/containernics/a')).toBeUndefined();
  });
});

describe('key classification', () => {
  // The rule by segments, as the layout states it (docs/design.md): what the parsers must answer
  // for every key, made from the pieces a key can be cut into, good and bad.
  const PLURALS = new Map([['clusternetworks', 'ClusterNetwork'], ['nodes', 'Node'], ['hostsubnets', 'HostSubnet'], ['containernics', 'ContainerNic'], ['macvlannets', 'MacvlanNet']]);
  const bySegments = (rest: string, indexedOnly: boolean) => {
    const [plural, name, ...more] = rest.split('/');
    const kind = PLURALS.get(plural);
    if (!kind || !name || more.length || (indexedOnly && kind !== 'ContainerNic')) return undefined;
    return { kind, name };
  };
  const tails = ['containernics/a', 'containernics/', 'containernics', 'containernics/a/', 'containernics/a/b', 'containernicsx/a', 'containernic/a',
    'hostsubnets/h-1', 'nodes/n', 'nodes//', 'macvlannets/m', 'clusternetworks/c', 'x/a', '', '/a', 'Containernics/a',
    // odd names: characters a name check would refuse, a name that is a kind's plural, an empty segment
    'containernics/a b', 'containernics/é', 'containernics/..', 'containernics/containernics', 'nodes/nodes', 'containernics//a', 'objects/containernics/a'];
  const keysOf = (root: string) => tails.flatMap((t) => [root + t]);

  it('tells an object key by its kind\'s directory and a name without "/"', () => {
    for (const key of [...keysOf('/xnet/registry/objects/'), ...keysOf('/xnet/registry/objectsx/'), ...keysOf('/other/registry/objects/'), ...keysOf('/xnet2/registry/objects/')]) {
      const want = key.startsWith('/xnet/registry/objects/') ? bySegments(key.slice('/xnet/registry/objects/'.length), false) : undefined;
      expect(keys.parseObjectKey(key), key).toEqual(want);
    }
    expect(keys.parseObjectKey('/xnet/registry/objects/containernics/nic-1')).toEqual({ kind: 'ContainerNic', name: 'nic-1' });
  });

  it('tells an index copy from an indexed status, for an indexed kind only', () => {
    // node names that are the index's own markers or a plural are names like any other
    for (const node of ['n1', '', 'objects', 'status', 'containernics', 'n 1']) {
      for (const part of ['objects/', 'status/controller/', 'status/', 'objectsx/']) {
        for (const key of keysOf(`/xnet/registry/bynode/${node}/${part}`)) {
          const rest = key.slice(`/xnet/registry/bynode/${node}/${part}`.length);
          const named = node ? bySegments(rest, true) : undefined;
          expect(keys.parseIndexedObject(key), key).toEqual(part === 'objects/' && named ? { node, ...named } : undefined);
          expect(keys.parseIndexedStatus(key), key).toEqual(part === 'status/controller/' && named ? { node, ...named } : undefined);
        }
      }
    }
    // another prefix that starts with this one's string
    expect(keys.parseIndexedObject('/xnet2/registry/bynode/n1/objects/containernics/a')).toBeUndefined();
    expect(keys.parseIndexedStatus('/xnet2/registry/bynode/n1/status/controller/containernics/a')).toBeUndefined();
  });
});
