/**
 * ASCII text built straight into a byte buffer: numbers and hex tokens are written digit by
 * digit, so exporting millions of rows creates no per-field strings. The caller hands the filled
 * part to the output when `full` and continues in a fresh buffer.
 */
const HEX = new TextEncoder().encode('0123456789abcdef');

export class ByteWriter {
  private buf: Buffer;
  pos = 0;
  private readonly limit: number;
  private readonly digits = new Uint8Array(24);

  /** `chunkBytes`: size handed out per `take()`; one row must fit in the last 64 KiB. */
  constructor(private readonly chunkBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(chunkBytes + 65_536);
    this.limit = chunkBytes;
  }

  get full(): boolean {
    return this.pos >= this.limit;
  }

  /** The bytes written so far; the writer continues in a new buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.chunkBytes + 65_536);
    this.pos = 0;
    return out;
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A 32-bit value as 8 lowercase hex digits. */
  hex8(h: number): void {
    const b = this.buf;
    let p = this.pos;
    for (let shift = 28; shift >= 0; shift -= 4) b[p++] = HEX[(h >>> shift) & 15];
    this.pos = p;
  }

  /** A non-negative integer (< 2^53) in decimal. */
  uint(n: number): void {
    if (n < 10) {
      this.buf[this.pos++] = 48 + n;
      return;
    }
    const d = this.digits;
    let k = 0;
    while (n > 0) {
      const q = Math.floor(n / 10);
      d[k++] = 48 + (n - q * 10);
      n = q;
    }
    while (k > 0) this.buf[this.pos++] = d[--k];
  }

  /** An integer, possibly negative. */
  int(n: number): void {
    if (n < 0) {
      this.buf[this.pos++] = 45;
      n = -n;
    }
    this.uint(n);
  }

  /** A non-negative integer below 10^width, zero-padded to `width` digits. */
  padded(n: number, width: number): void {
    const d = this.digits;
    for (let k = width - 1; k >= 0; k--) {
      const q = Math.floor(n / 10);
      d[k] = 48 + (n - q * 10);
      n = q;
    }
    for (let k = 0; k < width; k++) this.buf[this.pos++] = d[k];
  }

  /** A number in [0, 1) as `0.` and `decimals` digits (rounded; 1 − ε rounds down to stay below 1). */
  fraction(x: number, decimals: number): void {
    const scale = 10 ** decimals;
    this.buf[this.pos++] = 48;
    this.buf[this.pos++] = 46;
    this.padded(Math.min(scale - 1, Math.max(0, Math.round(x * scale))), decimals);
  }
}
