import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger: JSON lines on stderr, so stdout stays free for command output. */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({ level: opts.level ?? process.env.PCTR_LOG_LEVEL ?? 'info', name: opts.name ?? 'pctr' }, pino.destination(2));
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
