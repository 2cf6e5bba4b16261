import winston from 'winston';

/**
 * One logger per component. Logs go to stderr so that programs' stdout stays machine-readable.
 * XNET_LOG_LEVEL picks the level (default info); XNET_LOG_FORMAT=json for log shippers.
 */
export function createLogger(component: string, fields: Record<string, unknown> = {}): winston.Logger {
  const json = process.env.XNET_LOG_FORMAT === 'json';
  return winston.createLogger({
    level: process.env.XNET_LOG_LEVEL ?? 'info',
    defaultMeta: { component, ...fields },
    format: json
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp(),
          winston.format.printf(({ timestamp, level, message, component: c, ...rest }) => {
            const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
            return `${timestamp} ${level} [${c}] ${message}${extra}`;
          }),
        ),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })],
  });
}
export type Logger = winston.Logger;
