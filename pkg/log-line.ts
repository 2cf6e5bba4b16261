// The Logger every xnet component takes, one line format for all, and a logger that writes
// those lines to stderr without winston: xctl's only log is the store's, and loading winston
// (with logform and its streams) was about a tenth of a CPU second of every xctl run.

/** What xnet code logs through: winston's Logger (log.ts) is one; stderrLogger() is another. */
export interface Logger {
  level: string;
  error(message: string, meta?: object): unknown;
  warn(message: string, meta?: object): unknown;
  info(message: string, meta?: object): unknown;
  debug(message: string, meta?: object): unknown;
  log(level: string, message: string, meta?: object): unknown;
}

/** npm's levels, as winston orders them: a logger at `info` writes error, warn and info. */
const LEVELS: Record<string, number> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

/** One log line: `<ISO time> <level> [<component>] <message> <other fields as JSON>`. */
export function formatLine(timestamp: string, level: string, component: unknown, message: unknown, rest: Record<string, unknown>): string {
  const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
  return `${timestamp} ${level} [${component}] ${message}${extra}`;
}

/** The fields a log call passed: an Error (what some callers catch) is kept as its message and stack. */
function fieldsOf(meta: object | undefined): Record<string, unknown> {
  if (meta instanceof Error) return { error: meta.message, stack: meta.stack };
  return { ...meta };
}

/**
 * A Logger that writes to stderr, synchronously, as createLogger's (log.ts) does: formatLine
 * lines, or JSON ones with XNET_LOG_FORMAT=json; `level` as XNET_LOG_LEVEL says (default info).
 * A level it does not know writes nothing, as winston's check does.
 */
export function stderrLogger(component: string, level = process.env.XNET_LOG_LEVEL ?? 'info'): Logger {
  const json = process.env.XNET_LOG_FORMAT === 'json';
  const logger: Logger = {
    level,
    log(at, message, meta) {
      const limit = LEVELS[logger.level];
      if (limit === undefined || (LEVELS[at] ?? 0) > limit) return logger;
      const timestamp = new Date().toISOString();
      const fields = fieldsOf(meta);
      process.stderr.write((json
        ? JSON.stringify({ component, ...fields, level: at, message, timestamp })
        : formatLine(timestamp, at, component, message, fields)) + '\n');
      return logger;
    },
    error: (m, meta) => logger.log('error', m, meta),
    warn: (m, meta) => logger.log('warn', m, meta),
    info: (m, meta) => logger.log('info', m, meta),
    debug: (m, meta) => logger.log('debug', m, meta),
  };
  return logger;
}
