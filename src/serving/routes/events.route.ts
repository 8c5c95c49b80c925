/**
 * POST /v1/events: clicks from clients, many per request. Each event is checked on its own with
 * the core Click schema (a missing `ts` means now): the valid ones are appended to the clicks topic
 * (keyed by impressionId, so a click lands in its impression's partition) and acknowledged once the
 * log has them; the invalid ones are listed by index and field. A batch with no valid event is a 400.
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { Click, PctrError, TOPICS, issuePath, type Clock } from '../../core/index.ts';
import type { AppendRecord } from '../../events/index.ts';
import type { ServingMetrics } from '../metrics.ts';
import type { EventSink } from '../prediction-logger.ts';
import { ErrorResponse, KEYED, EventsRequest, EventsResponse, jsonSchema, type EventRejection, type EventsResponse as EventsReply } from '../schemas.ts';

/** Rejections listed in one answer; the count covers all of them. */
const MAX_LISTED = 100;

function rejection(index: number, issue: z.core.$ZodIssue): EventRejection {
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = unknownKey === undefined ? issuePath(issue.path) : issuePath([...issue.path, unknownKey]);
  const field = `events[${index}]${path === '(root)' ? '' : `.${path}`}`;
  if (unknownKey !== undefined) return { index, field, message: 'is not a known field of a click' };
  if (issue.path[0] === 'type') return { index, field, message: 'must be "click" (the only event type accepted)' };
  return { index, field, message: issue.message };
}

export function eventsRoute(app: FastifyInstance, opts: { sink: EventSink; clock: Clock; metrics: ServingMetrics }): void {
  const error = jsonSchema(ErrorResponse);
  app.post<{ Body: { events: Record<string, unknown>[] }; Reply: EventsReply }>(
    '/v1/events',
    {
      config: { role: 'client' },
      schema: {
        summary: 'Report clicks',
        description: 'Clicks `{ type: "click", impressionId, ts? }` on served impressions. Valid events are appended and counted in `accepted`; invalid ones are listed with their index and field.',
        tags: ['serving'],
        security: KEYED,
        body: jsonSchema(EventsRequest),
        response: { 200: jsonSchema(EventsResponse, 'output'), '4xx': error, '5xx': error },
      },
    },
    async (request) => {
      const events = request.body.events;
      const now = opts.clock.now();
      const records: AppendRecord[] = [];
      const errors: EventRejection[] = [];
      let rejected = 0;
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        const r = Click.safeParse(e.ts === undefined ? { ...e, ts: now } : e);
        if (r.success) {
          records.push({ key: r.data.impressionId, value: JSON.stringify(r.data) });
          continue;
        }
        rejected++;
        if (errors.length < MAX_LISTED) {
          errors.push(rejection(i, r.error.issues[0]));
        }
      }
      opts.metrics.eventsRejected.inc(rejected);
      if (records.length === 0) {
        const first = errors[0];
        throw new PctrError('PCTR_VALIDATION', `no valid event among ${events.length}: ${first.field} ${first.message}`, { details: { field: first.field, rejected, errors } });
      }
      await opts.sink.append(TOPICS.clicks, records);
      opts.metrics.eventsAccepted.inc({ type: 'click' }, records.length);
      return { accepted: records.length, rejected, errors };
    },
  );
}
