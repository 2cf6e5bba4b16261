// The faults, in the order; `npm run chaos -- --faults 1,4` picks some.
import { agentsKilled } from './agents.js';
import { clockJump } from './clock.js';
import { controllerLeaderKilled } from './controllers.js';
import { drift } from './drift.js';
import { etcdMembersKilled, etcdOutage } from './etcd.js';
import { dockerdKilled, linkDown } from './hosts.js';
import type { Fault } from './types.js';

export const ALL_FAULTS: Fault[] = [etcdMembersKilled, etcdOutage, controllerLeaderKilled, agentsKilled, linkDown, dockerdKilled, drift, clockJump];
