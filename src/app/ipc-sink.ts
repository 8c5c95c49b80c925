/**
 * Appends from cluster workers to the primary, which owns the file event log (one writer per
 * partition): a worker's gateway gets an `EventSink` that sends each batch over the IPC channel and
 * resolves when the primary has appended it, so a click is acknowledged only once it is in the log.
 * Errors come back with their catalog code, so the prediction logger still tells a batch the log
 * refuses (dropped) from one that failed (retried).
 */
import { PctrError, isPctrError, errorMessage, type ErrorCode } from '../core/index.ts';
import type { AppendAck, AppendRecord, EventLog } from '../events/index.ts';
import type { EventSink } from '../serving/index.ts';

export interface AppendRequest {
  readonly type: 'pctr.append';
  readonly id: number;
  readonly topic: string;
  readonly records: readonly AppendRecord[];
}

export type AppendReply =
  | { readonly type: 'pctr.appended'; readonly id: number; readonly ack: AppendAck }
  | { readonly type: 'pctr.append-failed'; readonly id: number; readonly code: ErrorCode | null; readonly message: string };

interface Channel {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The worker's side: an EventSink over `channel` (the worker's `process`). */
export class IpcEventSink implements EventSink {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (a: AppendAck) => void; reject: (e: Error) => void }>();

  constructor(private readonly channel: Channel) {
    channel.on('message', (m) => this.reply(m as AppendReply));
  }

  append(topic: string, records: readonly AppendRecord[]): Promise<AppendAck> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: AppendRequest = { type: 'pctr.append', id, topic, records };
      if (!this.channel.send(request)) {
        this.pending.delete(id);
        reject(new PctrError('PCTR_BACKEND_UNAVAILABLE', 'the cluster primary (which owns the event log) is not reachable'));
      }
    });
  }

  /** Fail every append still waiting (the primary went away). */
  abandon(reason: string): void {
    for (const p of this.pending.values()) p.reject(new PctrError('PCTR_BACKEND_UNAVAILABLE', reason));
    this.pending.clear();
  }

  private reply(m: AppendReply): void {
    if (m?.type !== 'pctr.appended' && m?.type !== 'pctr.append-failed') return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.type === 'pctr.appended') p.resolve(m.ack);
    else p.reject(m.code === null ? new Error(m.message) : new PctrError(m.code, m.message));
  }
}

/** The primary's side: appends a worker's request to the log and answers on `reply`. */
export function serveAppend(log: EventLog, message: unknown, reply: (m: AppendReply) => void): boolean {
  const m = message as AppendRequest;
  if (m?.type !== 'pctr.append') return false;
  log.append(m.topic, m.records).then(
    (ack) => reply({ type: 'pctr.appended', id: m.id, ack }),
    (e: unknown) => reply({ type: 'pctr.append-failed', id: m.id, code: isPctrError(e) ? e.code : null, message: errorMessage(e) }),
  );
  return true;
}
