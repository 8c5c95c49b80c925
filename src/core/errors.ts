/**
 * The one error catalog. Every error pctr raises on purpose is a `PctrError` with a stable `code`,
 * the HTTP status a gateway would answer with, and a message that names what was wrong. Backends
 * translate native errors (ioredis, pg, fs) into these at their boundary, keeping the original as `cause`.
 */

export const ERROR_CATALOG = {
  PCTR_CONFIG_INVALID: { status: 500, title: 'Configuration is invalid' },
  PCTR_VALIDATION: { status: 400, title: 'Input failed validation' },
  PCTR_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  PCTR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  PCTR_UNAUTHORIZED: { status: 401, title: 'Missing or unknown API key' },
  PCTR_FORBIDDEN: { status: 403, title: 'API key lacks the role for this route' },
  PCTR_RATE_LIMITED: { status: 429, title: 'Rate limit exceeded' },
  PCTR_OVERLOADED: { status: 503, title: 'Server overloaded' },
  PCTR_NOT_FOUND: { status: 404, title: 'Not found' },
  PCTR_UNKNOWN_MODEL: { status: 404, title: 'Unknown model or version' },
  PCTR_UNKNOWN_ALIAS: { status: 404, title: 'Unknown model alias' },
  PCTR_NO_MODEL: { status: 503, title: 'No model is loaded' },
  PCTR_CONFLICT: { status: 409, title: 'Conflicting change' },
  PCTR_ARTIFACT_CORRUPT: { status: 500, title: 'Model artifact is corrupt' },
  PCTR_MODEL_LOAD_FAILED: { status: 500, title: 'Model failed to load' },
  PCTR_DATA_INVALID: { status: 422, title: 'Data set is unusable' },
  PCTR_FILE_TRUNCATED: { status: 422, title: 'Input file is truncated' },
  PCTR_LOG_CORRUPT: { status: 500, title: 'Event log is corrupt' },
  PCTR_STATE_CORRUPT: { status: 500, title: 'Saved processing state is corrupt' },
  PCTR_BACKEND_UNAVAILABLE: { status: 503, title: 'A backing service is unavailable' },
  PCTR_TIMEOUT: { status: 504, title: 'Operation timed out' },
  PCTR_PIPELINE_FAILED: { status: 500, title: 'Training pipeline run failed' },
  PCTR_INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class PctrError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Machine-readable detail (field path, offending value, counts); safe to return to clients. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PctrError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = opts.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isPctrError(err: unknown, code?: ErrorCode): err is PctrError {
  return err instanceof PctrError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for logs and reports. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
