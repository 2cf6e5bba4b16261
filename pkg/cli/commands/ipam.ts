import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT } from '../exit.js';
import type { Command } from 'commander';
import type { RegisterCommand } from '../command.js';

/** Prints the controller's IPAM audit; exit 1 when it found leaks, duplicates or other problems. */
export async function ipamCheckCommand(session: Session, io: CliIO): Promise<number> {
  // loaded when the audit runs (it reads the Docker IPAM plugin's reports too), not at xctl's start
  const { ipamCheck } = await import('../../ipam/check.js');
  const report = await ipamCheck(session.client());
  io.out(report.text.endsWith('\n') || report.text === '' ? report.text : report.text + '\n');
  return report.problems > 0 ? EXIT.FAILED : EXIT.OK;
}

export const registerIpam: RegisterCommand = (program, { io, run }) => {
  const ipam = program.command('ipam').description('address management');
  ipam.command('check')
    .description('leaks, duplicates and use per pool; exit 1 on a problem')
    .action((_opts: unknown, cmd: Command) => run((s) => ipamCheckCommand(s, io), cmd));
};
