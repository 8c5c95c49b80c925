import { randomBytes } from 'node:crypto';

/**
 * Fast unique ids: a random per-process prefix plus a counter, base 36. Unique across processes
 * (64 random bits per process) and cheap enough for one id per served ad.
 */
export class IdGenerator {
  private readonly prefix: string;
  private counter = 0;

  constructor(tag = '') {
    this.prefix = tag + randomBytes(8).toString('base64url').replace(/[-_]/g, 'x');
  }

  next(): string {
    return `${this.prefix}${(this.counter++).toString(36)}`;
  }
}
