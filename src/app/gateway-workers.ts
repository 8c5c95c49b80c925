/**
 * The primary's handle on the gateway workers of `pctr start --workers N` (node:cluster): forks
 * them on the shared listen port, answers their appends on the event log it owns (ipc-sink.ts),
 * feeds their online-store replicas and their clock, keeps each one's latest stats, restarts one
 * that crashes (after a backoff, logged), and drains them all at the end: each stops accepting,
 * finishes its requests, flushes its impressions to the primary, reports, and exits.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { PctrError, type Clock, type Config, type Logger } from '../core/index.ts';
import type { EventLog } from '../events/index.ts';
import { CLOCK_EVERY_MS, isMessage, type ToWorker, type WorkerListening, type WorkerReady, type WorkerStats } from './cluster-messages.ts';
import { serveAppend } from './ipc-sink.ts';
import type { ReplicatedStore } from './replicated-store.ts';

const START_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 10_000;

export interface GatewayWorkersOptions {
  readonly config: Config;
  readonly host: string;
  readonly port: number;
  readonly log: EventLog;
  /** The store the aggregates write through, when the workers keep replicas of it (memory store). */
  readonly store: ReplicatedStore | null;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told about each crash and restart, for the terminal. */
  readonly notice: (line: string) => void;
}

/** One worker process's record, kept after it exits (its last stats count in the summary). */
export interface WorkerRecord {
  readonly pid: number;
  stats: WorkerStats | null;
  /** How it ended: null while running, else 'drained' or the crash (exit code / signal). */
  exit: string | null;
}

export class GatewayWorkers {
  private readonly records: WorkerRecord[] = [];
  private readonly live = new Set<Worker>();
  /** Workers that listen (the others have no gateway to drain yet). */
  private readonly serving = new WeakSet<Worker>();
  private stopping = false;
  private backoffMs = 500;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly clockTimer: NodeJS.Timeout;
  restarts = 0;
  /** The port the workers share (known once the first one listens). */
  port: number;

  constructor(private readonly opts: GatewayWorkersOptions) {
    this.port = opts.port;
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('./gateway-worker.ts', import.meta.url)),
      // The worker entry is TypeScript: load tsx in it whatever way the primary was started.
      execArgv: ['--import', import.meta.resolve('tsx')],
      serialization: 'advanced',
    });
    this.clockTimer = setInterval(() => this.broadcast({ type: 'pctr.clock', now: opts.clock.now() }), CLOCK_EVERY_MS);
  }

  /** Forks `n` workers; resolves with the shared port once all listen, rejects if one cannot start. */
  async start(n: number): Promise<number> {
    // All listen on the configured port, 0 included: the primary binds it once and shares that handle.
    const ports = (await Promise.all(Array.from({ length: n }, () => this.fork()))).map((w) => w.port);
    if (new Set(ports).size !== 1) throw new PctrError('PCTR_INTERNAL', `gateway workers listen on different ports (${ports.join(', ')})`);
    this.port = ports[0];
    return this.port;
  }

  /** Every worker that ran, in start order. */
  all(): readonly WorkerRecord[] {
    return this.records;
  }

  /** Impressions logged and dropped, over every worker that ran. */
  totals(): { logged: number; dropped: number } {
    let logged = 0;
    let dropped = 0;
    for (const r of this.records) {
      logged += r.stats?.impressionsLogged ?? 0;
      dropped += r.stats?.impressionsDropped ?? 0;
    }
    return { logged, dropped };
  }

  /** Drains every worker (requests finished, impressions flushed to the primary's log) and waits for them to exit. */
  async drain(): Promise<void> {
    this.stopping = true;
    clearInterval(this.clockTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await Promise.all(
      [...this.live].map(
        (w) =>
          new Promise<void>((resolve) => {
            const kill = setTimeout(() => {
              this.opts.logger.warn({ pid: w.process.pid }, `gateway worker did not drain in ${DRAIN_TIMEOUT_MS / 1000} s: killing it`);
              w.process.kill('SIGKILL');
            }, DRAIN_TIMEOUT_MS);
            w.once('exit', () => (clearTimeout(kill), resolve()));
            if (this.serving.has(w) && w.isConnected()) w.send({ type: 'pctr.drain' } satisfies ToWorker);
            else w.process.kill('SIGKILL');
          }),
      ),
    );
  }

  private broadcast(m: ToWorker): void {
    for (const w of this.live) if (w.isConnected()) w.send(m);
  }

  /** Forks one worker; resolves with its pid and port once it listens, rejects if it exits first. */
  private fork(): Promise<{ pid: number; port: number }> {
    const { logger, log } = this.opts;
    const worker = cluster.fork();
    const record: WorkerRecord = { pid: worker.process.pid ?? -1, stats: null, exit: null };
    this.records.push(record);
    this.live.add(worker);
    let detach = () => {};
    return new Promise((resolve, reject) => {
      let listening = false;
      const timeout = setTimeout(() => {
        reject(new PctrError('PCTR_INTERNAL', `gateway worker ${record.pid} did not listen within ${START_TIMEOUT_MS / 1000} s`));
        worker.process.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      const init = () => {
        // Attach first, then send the snapshot: rows put after the attach follow it on the channel.
        const replica = this.opts.store?.attach((rows) => {
          if (worker.isConnected()) worker.send({ type: 'pctr.features', rows } satisfies ToWorker);
        });
        detach = replica?.detach ?? detach;
        worker.send({ type: 'pctr.init', config: this.opts.config, host: this.opts.host, port: this.opts.port, now: this.opts.clock.now(), snapshot: replica?.snapshot ?? [] } satisfies ToWorker);
      };
      worker.on('message', (m: unknown) => {
        if (serveAppend(log, m, (reply) => worker.isConnected() && worker.send(reply))) return;
        if (isMessage<WorkerStats>(m, 'pctr.worker-stats')) record.stats = m;
        else if (isMessage<WorkerReady>(m, 'pctr.ready')) init();
        else if (isMessage<WorkerListening>(m, 'pctr.listening')) {
          listening = true;
          this.serving.add(worker);
          clearTimeout(timeout);
          this.backoffMs = 500;
          resolve({ pid: record.pid, port: m.port });
        }
      });
      worker.on('exit', (code, signal) => {
        detach();
        this.live.delete(worker);
        clearTimeout(timeout);
        const drained = this.stopping && code === 0;
        record.exit = drained ? 'drained' : `exit code ${code}${signal ? `, signal ${signal}` : ''}`;
        if (!listening) reject(new PctrError('PCTR_INTERNAL', `gateway worker ${record.pid} exited before it listened (${record.exit}); see the log`));
        if (drained || this.stopping || !listening) return;
        logger.error({ pid: record.pid, code, signal }, 'gateway worker crashed; restarting it');
        this.opts.notice(`gateway worker ${record.pid} crashed (${record.exit}): restarting it in ${this.backoffMs / 1000} s`);
        this.restartLater();
      });
    });
  }

  private restartLater(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping) return;
      this.restarts++;
      this.fork().then(
        ({ pid }) => {
          this.opts.logger.info({ pid }, 'gateway worker restarted');
          this.opts.notice(`gateway worker restarted: pid ${pid}`);
        },
        (e: Error) => {
          this.opts.logger.error({ err: e.message }, 'gateway worker restart failed; trying again');
          if (!this.stopping) this.restartLater();
        },
      );
    }, delay);
  }
}
