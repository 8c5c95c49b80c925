/**
 * The Redis wire protocol (RESP2) for the data path of the redis backend, written and read as
 * bytes: `CommandWriter` encodes pipelined commands into ~1 MiB buffers (values copied or encoded
 * once, no per-command object), `ReplyScanner` finds where replies end as bytes arrive (it hops
 * over bulk strings by their length), and `RespReader` parses complete replies, decoding only what
 * the caller asks for. A general client (ioredis) spends several µs per command on objects and
 * promises; these loops spend well under one.
 */
import { decodeText } from '../read-batch.ts';
import type { RecordSource } from '../record-buffer.ts';

const CR = 13;
const LF = 10;
const DOLLAR = 36;
const STAR = 42;
const PLUS = 43;
const MINUS = 45;
const COLON = 58;

/** An error reply (`-ERR …`) of one command. */
export class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisReplyError';
  }
}

const CHUNK_BYTES = 1 << 20;

function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Encodes commands into a list of buffers, each about CHUNK_BYTES (one socket write each). */
export class CommandWriter {
  readonly chunks: Buffer[] = [];
  /** Commands written. */
  commands = 0;
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;

  /** Start a command of `argc` arguments (the command name counts). */
  begin(argc: number): this {
    this.room(16);
    this.pos = this.header(STAR, argc, this.pos);
    this.commands++;
    return this;
  }

  /** A whole command of string arguments. */
  command(...args: readonly (string | number)[]): this {
    this.begin(args.length);
    for (const a of args) this.arg(typeof a === 'number' ? String(a) : a);
    return this;
  }

  /** A text argument, UTF-8. */
  arg(s: string): this {
    // Written after room for the longest length header, then moved back over what the header did not need.
    const max = 3 * s.length;
    const head = 3 + digits(max);
    this.room(head + max + 2);
    const at = this.pos + head;
    const n = s.length === 0 ? 0 : this.buf.write(s, at);
    const start = this.header(DOLLAR, n, this.pos);
    if (start < at) this.buf.copyWithin(start, at, at + n);
    this.pos = start + n;
    this.crlf();
    return this;
  }

  /** Record i of `src` as two arguments: its key, then its value. */
  record(src: RecordSource, i: number): this {
    this.arg(src.key(i));
    const max = src.maxValueBytes(i);
    const head = 3 + digits(max);
    this.room(head + max + 2);
    const at = this.pos + head;
    const n = src.writeValue(i, this.buf, at) - at;
    const start = this.header(DOLLAR, n, this.pos);
    if (start < at) this.buf.copyWithin(start, at, at + n);
    this.pos = start + n;
    this.crlf();
    return this;
  }

  /** Start a command with its encoded first arguments (`encodePrefix`), shared by many commands. */
  prefixed(prefix: Buffer): this {
    this.room(prefix.length);
    this.pos += prefix.copy(this.buf, this.pos);
    this.commands++;
    return this;
  }

  /** The buffers to send; the writer is spent. */
  finish(): Buffer[] {
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return this.chunks;
  }

  private header(type: number, n: number, pos: number): number {
    const b = this.buf;
    b[pos++] = type;
    pos += b.write(String(n), pos, 'latin1');
    b[pos++] = CR;
    b[pos++] = LF;
    return pos;
  }

  private crlf(): void {
    this.buf[this.pos++] = CR;
    this.buf[this.pos++] = LF;
  }

  /** Make room for `n` bytes, starting a new chunk when the current one is full. */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n));
    this.pos = 0;
  }
}

/** `*<n>\r\n$<len>\r\n<arg>\r\n…` for a fixed run of leading arguments (e.g. `XADD <stream> 1-*`). */
export function encodePrefix(argc: number, args: readonly string[]): Buffer {
  const w = new CommandWriter().begin(argc);
  for (const a of args) w.arg(a);
  return Buffer.concat(w.finish());
}

/**
 * Finds the ends of replies in bytes that arrive in pieces. Its position and open arrays survive
 * between calls, so each element is looked at once however a reply is split (an element cut by
 * the end of the bytes is looked at again whole); bulk strings are hopped over by their length.
 */
export class ReplyScanner {
  /** Where the next element starts, in the caller's buffer. */
  pos = 0;
  /** Elements still expected by each open array. */
  private readonly left: number[] = [];

  /** Scan `buf[pos, end)` until `want` more top-level replies are complete; returns how many were. */
  scan(buf: Buffer, end: number, want: number): number {
    let found = 0;
    let elem = this.pos;
    const left = this.left;
    while (found < want && elem < end) {
      const type = buf[elem];
      let p = elem + 1;
      if (type === DOLLAR || type === STAR) {
        const neg = buf[p] === MINUS;
        if (neg) p++;
        let n = 0;
        while (p < end && buf[p] !== CR) n = n * 10 + buf[p++] - 48;
        if (p + 1 >= end) break;
        p += 2;
        if (type === DOLLAR && !neg) {
          p += n + 2;
          if (p > end) break;
        } else if (type === STAR && !neg && n > 0) {
          left.push(n);
          elem = p;
          continue;
        }
      } else {
        while (p < end && buf[p] !== CR) p++;
        if (p + 1 >= end) break;
        p += 2;
      }
      elem = p;
      // The element is complete, and with it every array it was the last element of.
      while (left.length > 0 && --left[left.length - 1] === 0) left.pop();
      if (left.length === 0) found++;
    }
    this.pos = elem;
    return found;
  }

  /** Forget everything (the connection was lost). */
  reset(): void {
    this.pos = 0;
    this.left.length = 0;
  }
}

/** Reads complete replies from a buffer. Methods throw RedisReplyError on an error reply. */
export class RespReader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  /** Where the replies being read end. */
  end = 0;
  /** End of the last span `bulkSpan` returned. */
  spanEnd = 0;

  reset(buf: Buffer, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Copy the unread replies into a buffer of their own, so spans into `buf` outlive the request. */
  own(): void {
    this.buf = Buffer.from(this.buf.subarray(this.pos, this.end));
    this.end -= this.pos;
    this.pos = 0;
  }

  /** A bulk string left as bytes: its start in `buf` (its end is then `spanEnd`), or -1 for a null bulk string. */
  bulkSpan(): number {
    const n = this.head(DOLLAR);
    if (n < 0) return -1;
    const start = this.pos;
    this.spanEnd = start + n;
    this.pos += n + 2;
    return start;
  }

  /** Type byte of the next element. */
  peek(): number {
    return this.buf[this.pos];
  }

  /** `*n` → n (-1 for a null array). */
  array(): number {
    return this.head(STAR);
  }

  /** `:n` → n. */
  int(): number {
    return this.head(COLON);
  }

  /** `$n` bulk string → its text (null for a null bulk string). */
  bulk(): string | null {
    const n = this.head(DOLLAR);
    if (n < 0) return null;
    const s = decodeText(this.buf, this.pos, this.pos + n);
    this.pos += n + 2;
    return s;
  }

  /** A bulk string that is a stream id `<ms>-<seq>` → seq. */
  streamSeq(): number {
    const n = this.head(DOLLAR);
    const b = this.buf;
    const end = this.pos + n;
    let p = this.pos;
    while (p < end && b[p] !== MINUS) p++;
    let seq = 0;
    for (p++; p < end; p++) seq = seq * 10 + b[p] - 48;
    this.pos = end + 2;
    return seq;
  }

  /** `+text` → text. */
  simple(): string {
    this.check(PLUS);
    this.pos++;
    return this.line();
  }

  /** Any reply as a plain value: text, number, null or array of those. */
  value(): unknown {
    const t = this.peek();
    if (t === PLUS) return this.simple();
    if (t === COLON) return this.int();
    if (t === DOLLAR) return this.bulk();
    const n = this.array();
    if (n < 0) return null;
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(this.value());
    return out;
  }

  /** Skip one element (and everything in it). */
  skip(): void {
    const t = this.peek();
    if (t === STAR) {
      const n = this.array();
      for (let i = 0; i < n; i++) this.skip();
    } else if (t === DOLLAR) {
      const n = this.head(DOLLAR);
      if (n >= 0) this.pos += n + 2;
    } else {
      this.pos++;
      this.line();
    }
  }

  private head(type: number): number {
    this.check(type);
    const b = this.buf;
    let p = this.pos + 1;
    let neg = false;
    if (b[p] === MINUS) {
      neg = true;
      p++;
    }
    let n = 0;
    while (b[p] !== CR) n = n * 10 + b[p++] - 48;
    this.pos = p + 2;
    return neg ? -n : n;
  }

  private check(type: number): void {
    const t = this.buf[this.pos];
    if (t === type) return;
    if (t === MINUS) {
      this.pos++;
      throw new RedisReplyError(this.line());
    }
    throw new RedisReplyError(`unexpected reply type '${String.fromCharCode(t)}' (expected '${String.fromCharCode(type)}')`);
  }

  private line(): string {
    const b = this.buf;
    let p = this.pos;
    while (b[p] !== CR) p++;
    const s = b.toString('utf8', this.pos, p);
    this.pos = p + 2;
    return s;
  }
}
