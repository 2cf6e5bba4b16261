// An informer's handlers are isolated from each other: one that throws is reported through
// onError and every other handler still hears every add, update and delete (from the list,
// from events and from a relist). Pure: a scripted WatchSource, no etcd.
import { describe, expect, it } from 'vitest';
import { Informer } from '../../pkg/store/informer.js';
import type { ListResult, WatchHandlers, WatchSource } from '../../pkg/store/types.js';
import type { AnyObject } from '../../pkg/api/index.js';

const node = (name: string, address = '198.18.0.1') => ({ apiVersion: 'xnet.io/v1alpha1', kind: 'Node', metadata: { name }, spec: { address } }) as AnyObject;

function scripted(first: ListResult): { source: WatchSource; handlers: () => WatchHandlers } {
  let h: WatchHandlers | undefined;
  return {
    source: { list: async () => first, watch: async (_k, _r, handlers) => { h = handlers; return { close: async () => undefined }; } },
    handlers: () => h!,
  };
}

describe('Informer handlers', () => {
  it('one that throws keeps no other from hearing, and is reported', async () => {
    const s = scripted({ items: [node('a'), node('b')], revision: 1 });
    const errors: string[] = [];
    const inf = new Informer(s.source, 'Node', undefined, (e) => errors.push(e.message));
    const heard: string[] = [];
    inf.addHandler({ onAdd: (o) => { throw new Error(`bad handler on ${o.metadata.name}`); }, onUpdate: () => { throw new Error('bad update'); }, onDelete: () => { throw new Error('bad delete'); } });
    inf.addHandler({ onAdd: (o) => heard.push(`add ${o.metadata.name}`), onUpdate: (o) => heard.push(`update ${o.metadata.name}`), onDelete: (o) => heard.push(`delete ${o.metadata.name}`) });
    await inf.start();
    s.handlers().onEvent({ type: 'MODIFIED', object: node('a', '198.18.0.2'), revision: 2 });
    s.handlers().onEvent({ type: 'DELETED', object: node('b'), revision: 3 });
    s.handlers().onRelist!({ items: [node('c')], revision: 4 });
    expect(heard).toEqual(['add a', 'add b', 'update a', 'delete b', 'delete a', 'add c']);
    expect(errors).toEqual(['bad handler on a', 'bad handler on b', 'bad update', 'bad delete', 'bad delete', 'bad handler on c']);
    expect(inf.list().map((o) => o.metadata.name)).toEqual(['c']);
  });
});
