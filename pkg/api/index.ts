export * from './types.js';
export * from './kinds.js';
export * from './fields.js';
export * from './conditions.js';
export * from './validate.js';
export * from './validate-cross.js';
export * from './labels.js';
export * from './macvlan-parent.js';
