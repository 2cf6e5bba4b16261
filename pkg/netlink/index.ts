export * from './target.js';
export * from './pinned.js';
export * from './exec.js';
export * from './types.js';
export * from './parse.js';
export * from './ip.js';
export * from './monitor.js';
export * from './iptables.js';
