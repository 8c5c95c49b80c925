/**
 * A tiny WebAssembly assembler: LEB128, sections and the opcodes the kernels use, so the kernels
 * are generated here as bytes rather than compiled by a toolchain the machine does not have.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function uleb(x: number): number[] {
  const out: number[] = [];
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(x: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));

export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (x: number) => [0x41, ...sleb(x)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  geU: [0x4f],
  eqz: [0x45],
  shl: [0x74],
  f32load: [0x2a, 2, 0],
  f32store: [0x38, 2, 0],
  i32load: [0x28, 2, 0],
  gtU: [0x4b],
  ltS: [0x48],
  leU: [0x4d],
  shrU: [0x76],
  select: [0x1b],
  i32store: (offset = 0) => [0x36, 2, ...uleb(offset)],
  /** i32.load8_u with a byte offset. */
  load8u: (offset = 0) => [0x2d, 0, ...uleb(offset)],
  f64load: (offset = 0) => [0x2b, 3, ...uleb(offset)],
  f64store: (offset = 0) => [0x39, 3, ...uleb(offset)],
  f64add: [0xa0],
  i64load: (offset = 0) => [0x29, 3, ...uleb(offset)],
  i64store: (offset = 0) => [0x37, 3, ...uleb(offset)],
  f64: (x: number) => [0x44, ...new Uint8Array(Float64Array.of(x).buffer)],
  vload: (offset: number) => [0xfd, ...uleb(0), 4, ...uleb(offset)],
  vstore: (offset: number) => [0xfd, ...uleb(11), 4, ...uleb(offset)],
  vzero: [0xfd, ...uleb(12), ...new Array<number>(16).fill(0)],
  splat: [0xfd, ...uleb(0x13)],
  fadd: [0xfd, ...uleb(0xe4)],
  /** f64x2.add. */
  dadd: [0xfd, ...uleb(0xf0)],
  /** v128.load64_zero: 8 bytes into the low half. */
  vload64: (offset: number) => [0xfd, ...uleb(0x5d), 3, ...uleb(offset)],
  /** f64x2.promote_low_f32x4. */
  promote: [0xfd, ...uleb(0x5f)],
  fmul: [0xfd, ...uleb(0xe6)],
  fmax: [0xfd, ...uleb(0xe9)],
  fgt: [0xfd, ...uleb(0x44)],
  vand: [0xfd, ...uleb(0x4e)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
};

export interface WasmFunction {
  readonly name: string;
  /** Number of i32 parameters. */
  readonly params: number;
  /** Number of i32 results (default 0). */
  readonly results?: number;
  /** Locals and code, without the size prefix. */
  readonly body: number[];
}

/** A module importing env.memory (shared, up to maxPages) and exporting `functions` by name. */
export function moduleBytes(functions: readonly WasmFunction[], maxPages: number): Uint8Array {
  const type = section(1, vec(functions.map((f) => [0x60, ...vec(new Array<number[]>(f.params).fill([I32])), ...vec(new Array<number[]>(f.results ?? 0).fill([I32]))])));
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(maxPages)]]));
  const funcs = section(3, vec(functions.map((_, i) => uleb(i))));
  const exports = section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const code = section(10, vec(functions.map((f) => [...uleb(f.body.length), ...f.body])));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...funcs, ...exports, ...code]);
}
