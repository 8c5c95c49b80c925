/**
 * Typed edges of the log: events go in as JSON text keyed by impressionId (so an impression, its
 * clicks and its labeled example share a partition) and come out validated by the core schemas.
 */
import type { z } from 'zod';
import { PctrError, PctrEvent, errorMessage, parseOrThrow } from '../core/index.ts';
import type { AppendAck, EventLog, LogRecord } from './event-log.ts';

export function appendEvents(log: EventLog, topic: string, events: readonly PctrEvent[]): Promise<AppendAck> {
  const records = new Array<{ key: string; value: string }>(events.length);
  for (let i = 0; i < events.length; i++) records[i] = { key: events[i].impressionId, value: JSON.stringify(events[i]) };
  return log.append(topic, records);
}

/**
 * Parse and validate a record's value (default schema: any pctr event). Throws PCTR_VALIDATION
 * naming the record's position and the offending field.
 */
export function decodeEvent<S extends z.ZodType = typeof PctrEvent>(record: LogRecord, schema?: S): z.output<S> {
  const where = `event ${record.topic}/${record.partition}@${record.offset}`;
  let json: unknown;
  try {
    json = JSON.parse(record.value);
  } catch (e) {
    throw new PctrError('PCTR_VALIDATION', `invalid ${where}: not JSON (${errorMessage(e)})`, { details: { topic: record.topic, partition: record.partition, offset: record.offset } });
  }
  return parseOrThrow(schema ?? PctrEvent, json, where) as z.output<S>;
}
