/**
 * One topic read by the monitor's consumer group, as a loop: poll, hand each record to `handle`
 * in short slices (a gateway sharing the process must not wait behind a whole batch), commit the
 * offsets read about once a second. A failing poll or commit (a Redis restart) is logged and
 * retried a second later; the loop ends only when `signal` aborts, after a last commit.
 */
import { errorMessage, type Logger } from '../core/index.ts';
import type { EventLog } from '../events/index.ts';

export interface TopicReaderOptions {
  readonly log: EventLog;
  readonly topic: string;
  readonly group: string;
  /** Handles one record; false when it could not be read (counted as invalid). */
  readonly handle: (value: string) => boolean;
  /** After each batch (records handled, invalid among them). */
  readonly afterBatch: (records: number, invalid: number) => void;
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** Records handled between yields to the event loop (about half a millisecond of work). */
const SLICE = 128;
const POLL_MAX = 2000;
const POLL_WAIT_MS = 200;
const COMMIT_EVERY_MS = 1000;
const RETRY_MS = 1000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function readTopicLoop(o: TopicReaderOptions): Promise<void> {
  const consumer = o.log.subscribe(o.topic, o.group, { from: 'earliest' });
  // Offsets of every batch read since the last commit (a batch names only its own partitions).
  const pending = new Map<number, number>();
  let lastCommit = Date.now();
  const commit = async () => {
    if (pending.size === 0) return;
    const offsets = new Map(pending);
    await consumer.commit({ records: [], nextOffsets: offsets, nextOffsetsByTopic: new Map([[o.topic, offsets]]) });
    for (const [p, next] of offsets) if (pending.get(p) === next) pending.delete(p);
  };
  try {
    while (!o.signal.aborted) {
      try {
        const batch = await consumer.poll(POLL_MAX, POLL_WAIT_MS);
        const records = batch.records;
        let invalid = 0;
        for (let i = 0; i < records.length; i++) {
          if (!o.handle(records[i].value)) invalid++;
          if ((i + 1) % SLICE === 0) await yieldToEventLoop();
        }
        for (const [p, next] of batch.nextOffsets) pending.set(p, Math.max(next, pending.get(p) ?? 0));
        o.afterBatch(records.length, invalid);
        if (Date.now() - lastCommit >= COMMIT_EVERY_MS) {
          lastCommit = Date.now();
          await commit();
        }
        // A poll that finds records resolves without I/O: let requests and timers in this process run.
        if (records.length > 0) await yieldToEventLoop();
      } catch (e) {
        if (o.signal.aborted) break;
        o.logger.error({ topic: o.topic, err: errorMessage(e) }, 'monitor cannot read or commit a topic; retrying in 1 s');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
    }
    await commit();
  } catch (e) {
    o.logger.warn({ topic: o.topic, err: errorMessage(e) }, 'monitor could not commit its last offsets; the next start reads them again');
  } finally {
    await consumer.close();
  }
}
