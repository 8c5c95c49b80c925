/**
 * PostgreSQL LISTEN on the registry's channel, on a dedicated connection (a pooled one would be
 * handed to other queries). A dropped connection is logged and retried with backoff; while it is
 * down, watchers poll, and on reconnect they check every alias at once, so no move is missed.
 */
import pg from 'pg';
import { errorMessage, type Logger } from '../core/index.ts';
import type { ChangeFeed } from './sql-driver.ts';

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;

export interface AliasNotice {
  readonly name: string;
  readonly alias: string;
}

export function encodeNotice(n: AliasNotice): string {
  return JSON.stringify(n);
}

export class PgChangeFeed implements ChangeFeed {
  private handlers: Parameters<ChangeFeed['start']>[0] | null = null;
  private client: pg.Client | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly clientConfig: pg.ClientConfig,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  start(handlers: Parameters<ChangeFeed['start']>[0]): void {
    if (this.handlers !== null) return;
    this.handlers = handlers;
    void this.connect();
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (this.closed) return;
    const client = new pg.Client(this.clientConfig);
    let lost = false;
    const onLost = (err: unknown) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      if (this.closed) return;
      // The connection is already broken; ending it can only fail the same way again.
      client.end().catch(() => undefined);
      this.failures++;
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1));
      this.logger.warn({ err: errorMessage(err), channel: this.channel, failures: this.failures, retryInMs: delay }, 'registry change feed disconnected; polling until it reconnects');
      this.handlers?.onConnected(false);
      this.retryTimer = setTimeout(() => void this.connect(), delay);
      this.retryTimer.unref();
    };
    client.on('error', onLost);
    client.on('end', () => onLost(new Error('connection ended')));
    client.on('notification', (msg) => this.notified(msg));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (e) {
      onLost(e);
      return;
    }
    if (this.closed || lost) {
      if (!lost) await client.end();
      return;
    }
    this.client = client;
    if (this.failures > 0) this.logger.info({ channel: this.channel }, 'registry change feed reconnected');
    this.failures = 0;
    this.handlers?.onConnected(true);
  }

  private notified(msg: pg.Notification): void {
    if (msg.channel !== this.channel || msg.payload === undefined) return;
    let notice: AliasNotice;
    try {
      notice = JSON.parse(msg.payload) as AliasNotice;
    } catch (e) {
      this.logger.warn({ err: errorMessage(e), payload: msg.payload }, 'registry change feed: unreadable notification ignored');
      return;
    }
    this.handlers?.onChange(notice.name, notice.alias);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    if (client !== null) await client.end();
  }
}
