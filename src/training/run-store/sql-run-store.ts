/**
 * The run store in SQL, one body of statements for SQLite and PostgreSQL (`?` placeholders, upserts
 * with RETURNING, which both speak). No statement needs a multi-statement transaction: a run row
 * lists its steps, step rows appear when a step first starts, and every state change is a single
 * conditional UPDATE or upsert, so concurrent workers cannot interleave a half-written change.
 */
import { PctrError, errorMessage } from '../../core/index.ts';
import type { ErrorRecord, GateRecord, NewRun, RunQuery, RunRecord, RunStore, StepRecord, StepStart } from './run-store.ts';

export type Row = Record<string, unknown>;

/** What the SQL needs from a database connection. */
export interface SqlExec {
  readonly location: string;
  query(sql: string, params: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export const SCHEMA_STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS training_runs (
    id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    range_from BIGINT,
    range_to BIGINT,
    params TEXT NOT NULL,
    steps TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    error TEXT,
    gate TEXT
  )`,
  `CREATE TABLE IF NOT EXISTS training_steps (
    run_id TEXT NOT NULL REFERENCES training_runs (id),
    step TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    duration_ms DOUBLE PRECISION,
    output TEXT,
    error TEXT,
    PRIMARY KEY (run_id, step)
  )`,
  'CREATE INDEX IF NOT EXISTS training_runs_created ON training_runs (created_at)',
  'CREATE INDEX IF NOT EXISTS training_runs_pipeline ON training_runs (pipeline, status, finished_at)',
];

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const json = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(String(v)));

/** JSON text of a step output; refuses what JSON cannot carry rather than storing something else. */
function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value ?? null);
  } catch (e) {
    throw new PctrError('PCTR_INTERNAL', `${what} is not JSON-serializable: ${errorMessage(e)}`, { cause: e });
  }
  return text ?? 'null';
}

export class SqlRunStore implements RunStore {
  readonly location: string;

  constructor(private readonly db: SqlExec) {
    this.location = db.location;
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    await this.db.query(
      `INSERT INTO training_runs (id, pipeline, trigger_kind, status, range_from, range_to, params, steps, created_at)
       VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [run.id, run.pipeline, run.trigger, run.range?.from ?? null, run.range?.to ?? null, toJson(run.params, `params of run ${run.id}`), JSON.stringify(run.steps), Date.now()],
    );
    return this.getRun(run.id);
  }

  async getRun(id: string): Promise<RunRecord> {
    const run = await this.findRun(id);
    if (!run) throw new PctrError('PCTR_NOT_FOUND', `no training run "${id}" in ${this.location}`);
    return run;
  }

  async findRun(id: string): Promise<RunRecord | null> {
    const rows = await this.db.query('SELECT * FROM training_runs WHERE id = ?', [id]);
    if (rows.length === 0) return null;
    const steps = await this.db.query('SELECT * FROM training_steps WHERE run_id = ?', [id]);
    return toRun(rows[0], steps);
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const filters = [
      ['pipeline', query.pipeline],
      ['status', query.status],
      ['trigger_kind', query.trigger],
    ].filter(([, v]) => v !== undefined) as [string, string][];
    const where = filters.map(([column]) => `${column} = ?`);
    const params = filters.map(([, v]) => v);
    const limit = Math.max(1, Math.min(query.limit ?? 50, 10_000));
    const rows = await this.db.query(
      `SELECT * FROM training_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
      params,
    );
    if (rows.length === 0) return [];
    const ids = rows.map((r) => String(r.id));
    const steps = await this.db.query(`SELECT * FROM training_steps WHERE run_id IN (${ids.map(() => '?').join(', ')})`, ids);
    return rows.map((r) => toRun(r, steps.filter((s) => s.run_id === r.id)));
  }

  async startStep(runId: string, step: string): Promise<StepStart> {
    const now = Date.now();
    const rows = await this.db.query(
      `INSERT INTO training_steps (run_id, step, status, attempts, started_at) VALUES (?, ?, 'running', 1, ?)
       ON CONFLICT (run_id, step) DO UPDATE SET status = 'running', attempts = training_steps.attempts + 1,
         started_at = excluded.started_at, finished_at = NULL, duration_ms = NULL, error = NULL
       WHERE training_steps.status <> 'succeeded'
       RETURNING attempts`,
      [runId, step, now],
    );
    if (rows.length === 0) {
      const done = await this.db.query('SELECT output FROM training_steps WHERE run_id = ? AND step = ?', [runId, step]);
      return { alreadySucceeded: true, output: json(done[0]?.output) };
    }
    await this.db.query(
      `UPDATE training_runs SET status = 'running', started_at = COALESCE(started_at, ?), finished_at = NULL, error = NULL
       WHERE id = ? AND status <> 'succeeded'`,
      [now, runId],
    );
    return { alreadySucceeded: false, attempt: Number(rows[0].attempts) };
  }

  async completeStep(runId: string, step: string, output: unknown, durationMs: number): Promise<unknown> {
    await this.db.query(
      `UPDATE training_steps SET status = 'succeeded', finished_at = ?, duration_ms = ?, output = ?, error = NULL
       WHERE run_id = ? AND step = ? AND status <> 'succeeded'`,
      [Date.now(), durationMs, toJson(output, `output of step ${step}`), runId, step],
    );
    const rows = await this.db.query('SELECT output FROM training_steps WHERE run_id = ? AND step = ?', [runId, step]);
    if (rows.length === 0) throw new PctrError('PCTR_INTERNAL', `step ${step} of run ${runId} completed without having started`);
    return json(rows[0].output);
  }

  async failStep(runId: string, step: string, error: ErrorRecord, durationMs: number): Promise<void> {
    await this.db.query(
      `UPDATE training_steps SET status = 'failed', finished_at = ?, duration_ms = ?, error = ?
       WHERE run_id = ? AND step = ? AND status <> 'succeeded'`,
      [Date.now(), durationMs, JSON.stringify(error), runId, step],
    );
  }

  async reopenRun(runId: string): Promise<RunRecord> {
    await this.db.query(`UPDATE training_runs SET status = 'pending', finished_at = NULL, error = NULL WHERE id = ? AND status = 'failed'`, [runId]);
    return this.getRun(runId);
  }

  async finishRun(runId: string, outcome: { status: 'succeeded' | 'failed'; error?: ErrorRecord }): Promise<RunRecord> {
    await this.db.query(`UPDATE training_runs SET status = ?, finished_at = ?, error = ? WHERE id = ? AND status <> 'succeeded'`, [
      outcome.status,
      Date.now(),
      outcome.error ? JSON.stringify(outcome.error) : null,
      runId,
    ]);
    return this.getRun(runId);
  }

  async recordGate(runId: string, gate: GateRecord): Promise<void> {
    await this.db.query('UPDATE training_runs SET gate = ? WHERE id = ?', [JSON.stringify(gate), runId]);
  }

  async lastSucceeded(pipeline: string, exceptId = ''): Promise<RunRecord | null> {
    const rows = await this.db.query(
      `SELECT id FROM training_runs WHERE pipeline = ? AND status = 'succeeded' AND id <> ? ORDER BY finished_at DESC, id DESC LIMIT 1`,
      [pipeline, exceptId],
    );
    return rows.length ? this.findRun(String(rows[0].id)) : null;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** Rows → the domain record, in this one place. */
function toRun(row: Row, stepRows: readonly Row[]): RunRecord {
  const names = JSON.parse(String(row.steps)) as string[];
  const byName = new Map(stepRows.map((s) => [String(s.step), s]));
  const steps = names.map((name): StepRecord => {
    const s = byName.get(name);
    if (!s) return { name, status: 'pending', attempts: 0, startedAt: null, finishedAt: null, durationMs: null, output: null, error: null };
    return {
      name,
      status: String(s.status) as StepRecord['status'],
      attempts: Number(s.attempts),
      startedAt: num(s.started_at),
      finishedAt: num(s.finished_at),
      durationMs: num(s.duration_ms),
      output: json(s.output),
      error: json(s.error) as ErrorRecord | null,
    };
  });
  const from = num(row.range_from);
  const to = num(row.range_to);
  return {
    id: String(row.id),
    pipeline: String(row.pipeline),
    trigger: String(row.trigger_kind),
    status: String(row.status) as RunRecord['status'],
    range: from === null || to === null ? null : { from, to },
    params: json(row.params),
    createdAt: Number(row.created_at),
    startedAt: num(row.started_at),
    finishedAt: num(row.finished_at),
    error: json(row.error) as ErrorRecord | null,
    gate: json(row.gate) as GateRecord | null,
    steps,
  };
}
