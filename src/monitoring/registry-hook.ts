/**
 * The registry's side of the webhook: every alias move a process commits (promotion, rollback,
 * delete) goes out as the same signed JSON POST as alerts. Pass the hook as `createRegistry({
 * onAliasChange })` wherever aliases move (gateway admin routes, the training pipeline, `pctr models`).
 */
import type { Config } from '../core/index.ts';
import type { AliasChangeHook, AliasEvent } from '../registry/index.ts';
import { Webhook, type WebhookEventType, type WebhookOptions } from './webhook.ts';

/** The webhook configured in `monitoring.*`, or null when no URL is set. */
export function webhookFromConfig(settings: Config['monitoring'], opts: Pick<WebhookOptions, 'logger' | 'onOutcome'> = {}): Webhook | null {
  if (settings.webhookUrl === '') return null;
  return new Webhook({ url: settings.webhookUrl, secret: settings.webhookSecret, attempts: settings.webhookAttempts, ...opts });
}

const TYPES: Record<AliasEvent['action'], WebhookEventType> = { set: 'model.promoted', rollback: 'model.rolled_back', delete: 'model.alias_deleted' };

/** An `onAliasChange` hook that queues the move on the webhook (never blocks the move). */
export function aliasWebhookHook(webhook: Webhook): AliasChangeHook {
  return (event) => webhook.send(TYPES[event.action], event);
}
