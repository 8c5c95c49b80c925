/**
 * One connection to Redis for the data path: a request is a list of encoded commands (CommandWriter),
 * how many replies they get and a function that reads those replies (RespReader); requests are
 * pipelined and answered in order. It connects on first use (TLS for rediss://, AUTH and SELECT from
 * the URL). When the connection drops, every request in flight fails with the socket's error (the
 * caller translates it) and the next request connects again, so a Redis that comes back is used again.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { copyBytes } from '../record-buffer.ts';
import { CommandWriter, ReplyScanner, RespReader } from './resp.ts';

const CONNECT_TIMEOUT_MS = 3000;
const READ_BUFFER_BYTES = 64 * 1024;

interface Request {
  /** Replies still to arrive. */
  left: number;
  readonly read: (r: RespReader) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export class RespConnection {
  private socket: Socket | null = null;
  private queue: Request[] = [];
  private head = 0;
  private inbuf = Buffer.allocUnsafe(1 << 20);
  /** Unread reply bytes are inbuf[inStart, inEnd); the head request's replies start at inStart. */
  private inStart = 0;
  private inEnd = 0;
  private readonly scanner = new ReplyScanner();
  private readonly reader = new RespReader();
  private closed = false;
  /** Called once no request is in flight (for `end`). */
  private drained: (() => void)[] = [];

  constructor(
    private readonly url: URL,
    private readonly name: string,
  ) {}

  /** Send `chunks` (encoded commands getting `replies` replies in all) and read the replies with `read`. */
  request<T>(chunks: readonly Buffer[], replies: number, read: (r: RespReader) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('Connection is closed.'));
    const sock = this.socket ?? this.connect();
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ left: replies, read, resolve: resolve as (v: unknown) => void, reject });
      for (const c of chunks) sock.write(c);
    });
  }

  /** Close now: requests in flight fail (a blocked read ends at once). */
  close(): void {
    this.closed = true;
    this.fail(new Error('Connection is closed.'));
  }

  /** Close once the requests in flight are answered. */
  async end(): Promise<void> {
    this.closed = true;
    if (this.queue.length > this.head) await new Promise<void>((resolve) => this.drained.push(resolve));
    this.fail(new Error('Connection is closed.'));
  }

  private connect(): Socket {
    const host = this.url.hostname;
    const port = Number(this.url.port || 6379);
    const tls = this.url.protocol === 'rediss:';
    // Plain TCP reads into one reused buffer (`onread`): replies are copied into `inbuf` anyway, and a
    // fresh 64 KiB buffer per read is external memory that drives V8 into extra full GCs at high rates.
    const sock: Socket = tls
      ? tlsConnect({ host, port, servername: host })
      : netConnect({
          host,
          port,
          onread: {
            buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
            callback: (n: number, buf: Uint8Array) => {
              if (this.socket === sock) this.onData(buf, n);
              return true;
            },
          },
        });
    this.socket = sock;
    sock.setNoDelay(true);
    sock.setKeepAlive(true);
    sock.setTimeout(CONNECT_TIMEOUT_MS, () => sock.destroy(new Error(`connect ETIMEDOUT ${host}:${port}`)));
    sock.once(tls ? 'secureConnect' : 'connect', () => sock.setTimeout(0));
    if (tls) {
      sock.on('data', (chunk: Buffer) => {
        if (this.socket === sock) this.onData(chunk, chunk.length);
      });
    }
    sock.on('error', (e) => {
      if (this.socket === sock) this.fail(e);
    });
    // The server ending the connection ('end') fails what is in flight at once, before a write can meet the closed socket.
    const closed = (): void => {
      if (this.socket === sock) this.fail(new Error('Connection is closed.'));
    };
    sock.on('end', closed);
    sock.on('close', closed);
    this.hello(sock);
    return sock;
  }

  /** AUTH, SELECT and the client name, first on every connection; a refusal ends the connection with its error. */
  private hello(sock: Socket): void {
    const w = new CommandWriter();
    const user = decodeURIComponent(this.url.username);
    const password = decodeURIComponent(this.url.password);
    if (password) w.command(...(user ? ['AUTH', user, password] : ['AUTH', password]));
    const db = Number(this.url.pathname.slice(1) || 0);
    if (db > 0) w.command('SELECT', db);
    w.command('CLIENT', 'SETNAME', this.name);
    const replies = w.commands;
    this.queue.push({
      left: replies,
      read: (r) => {
        for (let i = 0; i < replies; i++) r.value();
      },
      resolve: () => undefined,
      reject: (e) => {
        if (this.socket === sock) this.fail(e instanceof Error ? e : new Error(String(e)));
      },
    });
    for (const c of w.finish()) sock.write(c);
  }

  /** `chunk[0, n)` arrived. */
  private onData(chunk: Uint8Array, n: number): void {
    this.append(chunk, n);
    while (this.head < this.queue.length) {
      const req = this.queue[this.head];
      req.left -= this.scanner.scan(this.inbuf, this.inEnd, req.left);
      if (req.left > 0) break;
      this.queue[this.head++] = undefined as unknown as Request;
      this.reader.reset(this.inbuf, this.inStart, this.scanner.pos);
      // Whatever the reader consumed, the request's replies end where the scanner stopped.
      this.inStart = this.scanner.pos;
      try {
        req.resolve(req.read(this.reader));
      } catch (e) {
        req.reject(e);
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      for (const d of this.drained.splice(0)) d();
    }
    if (this.inStart === this.inEnd) this.inStart = this.inEnd = this.scanner.pos = 0;
  }

  /** Add received bytes `chunk[0, n)` after the unread ones, moving or growing the buffer when needed. */
  private append(chunk: Uint8Array, n: number): void {
    if (this.inEnd + n > this.inbuf.length) {
      const unread = this.inEnd - this.inStart;
      const target = unread + n > this.inbuf.length / 2 ? Buffer.allocUnsafe(Math.max(2 * this.inbuf.length, unread + n)) : this.inbuf;
      this.inbuf.copy(target, 0, this.inStart, this.inEnd);
      this.inbuf = target;
      this.scanner.pos -= this.inStart;
      this.inEnd = unread;
      this.inStart = 0;
    }
    this.inEnd = copyBytes(chunk, 0, n, this.inbuf, this.inEnd);
  }

  /** The connection is gone: fail everything in flight; the next request connects again. */
  private fail(err: Error): void {
    const sock = this.socket;
    this.socket = null;
    sock?.destroy();
    const pending = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.inStart = this.inEnd = 0;
    this.scanner.reset();
    for (const req of pending) req.reject(err);
    for (const d of this.drained.splice(0)) d();
  }
}
