import { ipamCheck } from '../../ipam/check.js';
import type { Session } from '../connect.js';
import type { CliIO } from '../io.js';
import { EXIT } from '../exit.js';

/** Prints the controller's IPAM audit; exit 1 when it found leaks, duplicates or other problems. */
export async function ipamCheckCommand(session: Session, io: CliIO): Promise<number> {
  const report = await ipamCheck(session.client());
  io.out(report.text.endsWith('\n') || report.text === '' ? report.text : report.text + '\n');
  return report.problems > 0 ? EXIT.FAILED : EXIT.OK;
}
