/**
 * The offline sink: consumes the `examples` topic (consumer group `offline-store`) and writes the
 * labeled examples to the Parquet store in flushes of up to `maxRows` rows or `flushIntervalMs`.
 *
 * Exactly-once on disk: flush number k of sink S writes its hour files as `S-k.parquet` (each
 * written to a temp name and renamed), then records {k, offsets} in `DIR/_sink/S.json` (atomic
 * replace), then commits the offsets to the group. After a crash, files of flushes after the
 * recorded one are deleted and records below the recorded offsets are skipped, so every example is
 * in exactly one file whatever the moment of the crash.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { LabeledExample, PctrError, TOPICS, describeIssues, silentLogger, type Logger } from '../../core/index.ts';
import type { Consumer, EventLog } from '../../events/index.ts';
import { ConsumedOffsets } from '../consumed-offsets.ts';
import { partitionFiles, tmpDir } from './layout.ts';
import type { OfflineStore } from './offline-store.ts';

export interface OfflineSinkOptions {
  readonly log: EventLog;
  readonly store: OfflineStore;
  /** The store's directory (where flush files and the sink checkpoint live). */
  readonly dir: string;
  readonly group?: string;
  /** Log partitions this sink owns (default: all); sinks of one group split the partitions. */
  readonly partitions?: readonly number[];
  readonly maxRows?: number;
  readonly flushIntervalMs?: number;
  readonly pollMax?: number;
  readonly pollWaitMs?: number;
  readonly logger?: Logger;
  readonly wallNow?: () => number;
}

export interface SinkProgress {
  readonly records: number;
  readonly written: number;
  readonly invalid: number;
  readonly skipped: number;
  readonly flushes: number;
  readonly buffered: number;
}

interface SinkCheckpoint {
  seq: number;
  offsets: Record<string, number>;
}

export class OfflineSink {
  readonly id: string;
  private readonly opts: OfflineSinkOptions;
  private readonly logger: Logger;
  private readonly wallNow: () => number;
  private consumer!: Consumer;
  private offsets!: ConsumedOffsets;
  private seq = 0;
  private buffer: LabeledExample[] = [];
  private lastFlush: number;
  private counters = { records: 0, written: 0, invalid: 0, skipped: 0, flushes: 0 };

  constructor(opts: OfflineSinkOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.wallNow = opts.wallNow ?? (() => performance.now());
    const group = opts.group ?? 'offline-store';
    this.id = opts.partitions ? `${group}-p${[...opts.partitions].sort((a, b) => a - b).join('.')}` : group;
    this.lastFlush = this.wallNow();
  }

  private get checkpointPath(): string {
    return join(this.opts.dir, '_sink', `${this.id}.json`);
  }

  /** Undo an interrupted flush, then subscribe from where the last complete one ended. */
  async start(): Promise<void> {
    const cp = this.readCheckpoint();
    this.seq = cp.seq;
    const mine = new RegExp(`^${this.id.replaceAll('.', '\\.')}-(\\d+)\\.parquet$`);
    for (const file of partitionFiles(this.opts.dir)) {
      const m = mine.exec(basename(file));
      if (m && Number(m[1]) > cp.seq) {
        rmSync(file);
        this.logger.warn({ file }, 'offline sink: removed the file of an unfinished flush');
      }
    }
    rmSync(tmpDir(this.opts.dir), { recursive: true, force: true });
    this.offsets = new ConsumedOffsets(TOPICS.examples, cp.offsets);
    this.consumer = this.opts.log.subscribe(TOPICS.examples, this.opts.group ?? 'offline-store', this.opts.partitions ? { partitions: this.opts.partitions } : {});
  }

  /** One poll; flushes when due. Returns the records read. */
  async step(): Promise<number> {
    const batch = await this.consumer.poll(this.opts.pollMax ?? 4096, this.opts.pollWaitMs ?? 200);
    for (const r of batch.records) {
      this.counters.records++;
      if (this.offsets.covered(r)) {
        this.counters.skipped++;
        continue;
      }
      const example = parseExample(r.value);
      if (typeof example === 'string') {
        this.counters.invalid++;
        if (this.counters.invalid <= 10) this.logger.warn({ partition: r.partition, offset: r.offset, problem: example }, 'offline sink: skipped an invalid example');
        continue;
      }
      this.buffer.push(example);
    }
    this.offsets.add(batch);
    if (this.buffer.length >= (this.opts.maxRows ?? 100_000) || this.wallNow() - this.lastFlush >= (this.opts.flushIntervalMs ?? 30_000)) await this.flush();
    return batch.records.length;
  }

  async run(opts: { signal?: AbortSignal; untilIdle?: boolean; onProgress?: (p: SinkProgress) => void; progressEveryMs?: number } = {}): Promise<void> {
    let lastProgress = this.wallNow();
    while (!opts.signal?.aborted) {
      const read = await this.step();
      // Polls that find data resolve without I/O: let timers (progress, signals) and other work run.
      await yieldToEventLoop();
      if (opts.onProgress && this.wallNow() - lastProgress >= (opts.progressEveryMs ?? 1000)) {
        lastProgress = this.wallNow();
        opts.onProgress(this.progress());
      }
      if (opts.untilIdle && read === 0) break;
    }
    await this.flush();
    opts.onProgress?.(this.progress());
  }

  /** Write the buffered examples, record the flush, then commit the offsets. */
  async flush(): Promise<void> {
    this.lastFlush = this.wallNow();
    const commit = this.offsets.takeCommit();
    if (commit === null) return;
    if (this.buffer.length > 0) {
      const seq = this.seq + 1;
      await this.opts.store.writeExamples(this.buffer, `${this.id}-${String(seq).padStart(10, '0')}`);
      this.counters.written += this.buffer.length;
      this.counters.flushes++;
      this.buffer = [];
      this.seq = seq;
    }
    this.writeCheckpoint({ seq: this.seq, offsets: this.offsets.offsets() });
    await this.consumer.commit(commit);
  }

  progress(): SinkProgress {
    return { ...this.counters, buffered: this.buffer.length };
  }

  async close(): Promise<void> {
    await this.consumer?.close();
  }

  private readCheckpoint(): SinkCheckpoint {
    if (!existsSync(this.checkpointPath)) return { seq: 0, offsets: {} };
    try {
      const cp = JSON.parse(readFileSync(this.checkpointPath, 'utf8')) as SinkCheckpoint;
      if (!Number.isInteger(cp.seq) || typeof cp.offsets !== 'object' || cp.offsets === null) throw new Error('missing seq or offsets');
      return cp;
    } catch (e) {
      throw new PctrError('PCTR_STATE_CORRUPT', `offline sink checkpoint ${this.checkpointPath} is unreadable: ${(e as Error).message}`, { cause: e });
    }
  }

  private writeCheckpoint(cp: SinkCheckpoint): void {
    const path = this.checkpointPath;
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(`${path}.tmp`, 'w');
    try {
      writeSync(fd, JSON.stringify(cp));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${path}.tmp`, path);
  }
}

/** The example in `text`, or a description of what is wrong with it. */
function parseExample(text: string): LabeledExample | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (hasStorableShape(raw)) return raw;
  // Only a record that fails the quick check pays for the full schema, which names the problem.
  const r = LabeledExample.safeParse(raw);
  return r.success ? r.data : describeIssues(r.error);
}

/**
 * Every field the Parquet columns take, with the type its column needs: the examples come from the
 * join (impressions validated at the gateway), so the full zod schema — half of the sink's time —
 * is kept for records that fail this check.
 */
function hasStorableShape(x: unknown): x is LabeledExample {
  const e = x as Record<string, unknown>;
  if (typeof e !== 'object' || e === null || e.type !== 'example') return false;
  for (const k of ['impressionId', 'requestId', 'userId', 'adId', 'campaignId', 'modelVersion']) if (typeof e[k] !== 'string') return false;
  for (const k of ['ts', 'bid', 'pCTR']) if (!Number.isFinite(e[k])) return false;
  if (!Number.isInteger(e.position) || (e.label !== 0 && e.label !== 1)) return false;
  if (!(e.clickTs === null || Number.isFinite(e.clickTs)) || !(e.oracleCtr === undefined || Number.isFinite(e.oracleCtr))) return false;
  const f = e.features as Record<string, unknown>;
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return false;
  for (const k in f) {
    const v = f[k];
    if (typeof v !== 'string' && !Number.isFinite(v)) return false;
  }
  return (e.ts as number) >= 0;
}
