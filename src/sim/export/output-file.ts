/**
 * A file written chunk by chunk with backpressure, gzip-compressed when its name ends in `.gz`
 * (zlib runs on libuv's thread pool, beside the generating thread).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { PctrError } from '../../core/index.ts';

/** Level 1: gzip at ~6 is the bottleneck of an export, and level 1 files are only ~15% larger. */
const GZIP_LEVEL = 1;

export class OutputFile {
  readonly path: string;
  private readonly head: Writable;
  private readonly done: Promise<void>;
  private failure: unknown = null;

  constructor(path: string) {
    this.path = path;
    const file = createWriteStream(path);
    if (path.endsWith('.gz')) {
      const gzip = createGzip({ level: GZIP_LEVEL });
      this.head = gzip;
      this.done = pipeline(gzip, file);
    } else {
      this.head = file;
      this.done = once(file, 'close').then(() => undefined);
    }
    this.done.catch((e: unknown) => {
      this.failure = e;
    });
    this.head.on('error', (e) => {
      this.failure ??= e;
    });
  }

  async write(chunk: Buffer): Promise<void> {
    this.check();
    if (!this.head.write(chunk)) await Promise.race([once(this.head, 'drain'), this.done]);
    this.check();
  }

  async close(): Promise<void> {
    this.check();
    this.head.end();
    try {
      await this.done;
    } catch (e) {
      this.failure = e;
    }
    this.check();
  }

  private check(): void {
    if (this.failure !== null) {
      throw new PctrError('PCTR_INTERNAL', `cannot write ${this.path}: ${(this.failure as Error).message}`, { cause: this.failure });
    }
  }
}
