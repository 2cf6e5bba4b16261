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

/** A Logger that writes formatLine lines to stderr, synchronously; `level` as XNET_LOG_LEVEL says (default info). */
export function stderrLogger(component: string, level = process.env.XNET_LOG_LEVEL ?? 'info'): Logger {
  const logger: Logger = {
    level,
    log(at, message, meta = {}) {
      if ((LEVELS[at] ?? 0) > (LEVELS[logger.level] ?? LEVELS.info)) return logger;
      process.stderr.write(formatLine(new Date().toISOString(), at, component, message, { ...meta }) + '\n');
      return logger;
    },
    error: (m, meta) => logger.log('error', m, meta),
    warn: (m, meta) => logger.log('warn', m, meta),
    info: (m, meta) => logger.log('info', m, meta),
    debug: (m, meta) => logger.log('debug', m, meta),
  };
  return logger;
}
