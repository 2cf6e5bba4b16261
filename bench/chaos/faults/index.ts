// The faults, in the order; `npm run chaos -- --faults 1,4` picks some.
import { agentsKilled } from './agents.js';
import type { Fault } from './types.js';

export const ALL_FAULTS: Fault[] = [agentsKilled];
