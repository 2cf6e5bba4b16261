export * from './ops.js';
export * from './names.js';
export * from './routes.js';
export * from './docker-networks.js';
export * from './nat.js';
export * from './nic.js';
export * from './macvlan.js';
export * from './parents.js';
