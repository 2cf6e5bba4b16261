// Placeholder until the lab lands: `xctl lab ...` (owned by the lab work).
import { Command } from 'commander';

export function labCommand(): Command {
  return new Command('lab').description('multi-host lab on this machine (not built yet)');
}
