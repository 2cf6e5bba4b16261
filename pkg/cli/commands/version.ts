// `xctl version`, as kubectl's: the client's version. (The agents' versions are in their
// Nodes' status: `xctl get nodes -o wide`, column AGENT.)
import type { RegisterCommand } from '../command.js';
import { XNET_VERSION } from '../../version.js';

export const registerVersion: RegisterCommand = (program, { io }) => {
  program.command('version')
    .description('print the client version (the agents\' are in get nodes -o wide)')
    .action(() => { io.out(`Client Version: v${XNET_VERSION}\n`); });
};
