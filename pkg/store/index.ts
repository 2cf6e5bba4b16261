export * from './types.js';
export { createEtcdStore, EtcdStore, InvalidObjectError, normalize } from './etcd-store.js';
export { Informer, type InformerHandlers } from './informer.js';
export { Keys, prefixEnd, DEFAULT_PREFIX } from './keys.js';
export { boundNode, mergeStatus } from './merge.js';
