import winston from 'winston';
import { formatLine, type Logger } from './log-line.js';

export type { Logger } from './log-line.js';

/**
 * One logger per component. Logs go to stderr so that programs' stdout stays machine-readable.
 * XNET_LOG_LEVEL picks the level (default info); XNET_LOG_FORMAT=json for log shippers.
 */
export function createLogger(component: string, fields: Record<string, unknown> = {}): winston.Logger & Logger {
  const json = process.env.XNET_LOG_FORMAT === 'json';
  return skipBelowLevel(winston.createLogger({
    level: process.env.XNET_LOG_LEVEL ?? 'info',
    defaultMeta: { component, ...fields },
    format: json
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp(),
          winston.format.printf(({ timestamp, level, message, component: c, ...rest }) => formatLine(String(timestamp), level, c, message, rest)),
        ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
  }));
}

type LevelMethod = (this: winston.Logger | undefined, ...args: unknown[]) => winston.Logger;

/**
 * winston builds, timestamps and formats every message and passes it through two streams
 * before its transport drops it as below the level: with a thousand hollow agents at level
 * error (bench/scale.ts), their `info` lines were a tenth of the CPU over a new node's route.
 * Each level's method now returns at once when its level is off, checked at each call
 * (`level` may be changed after creation, as quiet loggers do).
 */
function skipBelowLevel(logger: winston.Logger): winston.Logger {
  const methods = logger as unknown as Record<string, LevelMethod>;
  for (const level of Object.keys(logger.levels)) {
    const write = methods[level];
    methods[level] = function (...args) {
      const self = this ?? logger;
      return self.isLevelEnabled(level) ? write.apply(self, args) : self;
    };
  }
  return logger;
}
