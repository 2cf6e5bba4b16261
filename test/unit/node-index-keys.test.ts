// Where a ContainerNic's controller status is kept (its node's index, nowhere else) and how a
// key there is told from the object copies beside it: the rule every reader and writer uses.
import { describe, expect, it } from 'vitest';
import { Keys } from '../../pkg/store/keys.js';

const keys = new Keys('/xnet');

describe('node index keys', () => {
  it('keeps an indexed kind\'s controller status in its node\'s index, other kinds\' under status/controller/', () => {
    expect(keys.controllerStatus('ContainerNic', 'a', 'n1')).toBe('/xnet/registry/bynode/n1/status/controller/containernics/a');
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
