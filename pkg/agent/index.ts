export { Agent, AGENT_VERSION, type AgentOptions } from './agent.js';
export { Dataplane, ApplyError, type AgentDataplane } from './dataplane.js';
export * from './desired.js';
export * from './events.js';
export * from './node.js';
export * as planner from './planner/index.js';
