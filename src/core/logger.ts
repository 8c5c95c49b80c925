import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines on stderr, so stdout stays free for command output — or appended
 * to the file `PCTR_LOG_FILE` names, which worker threads inherit (`pctr start` sets it while its
 * live view owns the terminal).
 */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  const file = process.env.PCTR_LOG_FILE;
  const dest = file ? pino.destination({ dest: file, append: true, mkdir: true }) : pino.destination(2);
  return pino({ level: opts.level ?? process.env.PCTR_LOG_LEVEL ?? 'info', name: opts.name ?? 'pctr' }, dest);
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
