/**
 * Every lab failure says what the lab was doing and what the user can do about it, so
 * `xctl lab ...` can print it as is and tests can show it without a stack trace.
 */
export class LabError extends Error {
  constructor(
    /** short machine-readable cause, e.g. NotRoot, CommandFailed, DockerdNotReady */
    readonly reason: string,
    message: string,
    /** what to do about it */
    readonly hint?: string,
  ) {
    super(hint ? `${message} (${hint})` : message);
    this.name = 'LabError';
  }
}
