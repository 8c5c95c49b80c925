/**
 * The bodies of the FM and FFM kernels (factor-kernels.ts), as WebAssembly bytes: the row's pair
 * loops over f32x4 chunks of the factor vectors, AdaGrad steps, and the mini-batch sums kept per
 * bucket slot (a mask bit per vector a batch used, so only those take a step).
 */
import { PctrError } from '../../core/index.ts';
import { I32, op as asm, sleb, uleb, V128, vec } from '../kernels/wasm-asm.ts';

const F32 = 0x7d;
const simd = (code: number): number[] => [0xfd, ...uleb(code)];

/** The shared assembler's opcodes, plus the memory offsets, scalar f32 and SIMD arithmetic these kernels use. */
const op = {
  ...asm,
  /** Addresses are unsigned 32-bit: constants above 2^31 go in as their two's complement. */
  i32: (x: number) => [0x41, ...sleb(x | 0)],
  f32: (x: number) => [0x43, ...new Uint8Array(Float32Array.of(x).buffer)],
  and: [0x71],
  or: [0x72],
  xor: [0x73],
  eq: [0x46],
  i32load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  f32load: (offset = 0) => [0x2a, 2, ...uleb(offset)],
  f32add: [0x92],
  f32sub: [0x93],
  f32mul: [0x94],
  f32div: [0x95],
  f32sqrt: [0x91],
  f32store: (offset = 0) => [0x38, 2, ...uleb(offset)],
  vload: (offset = 0) => asm.vload(offset),
  vstore: (offset = 0) => asm.vstore(offset),
  lane: (i: number) => [...simd(0x1f), i],
  vadd: simd(0xe4),
  vsub: simd(0xe5),
  vmul: simd(0xe6),
  vdiv: simd(0xe7),
  vsqrt: simd(0xe3),
  call: (f: number) => [0x10, ...uleb(f)],
  drop: [0x1a],
  ret: [0x0f],
};

/** A function body under construction: parameters first, then locals by type. */
export class Fn {
  readonly code: number[] = [];
  private readonly locals: number[] = [];
  private next: number;

  constructor(readonly params: readonly number[], readonly results: readonly number[]) {
    this.next = params.length;
  }

  local(type: number): number {
    this.locals.push(type);
    return this.next++;
  }

  emit(...parts: number[][]): this {
    for (const p of parts) this.code.push(...p);
    return this;
  }

  /** `for (i = from; i < bound; i += step) body()`, i a local, from and bound code that pushes an i32. */
  forLoop(i: number, from: number[], bound: number[], body: () => void, step = 1): void {
    this.emit(from, op.set(i), op.block, op.loop, op.get(i), bound, op.ltS, op.eqz, op.brIf(1));
    body();
    this.emit(op.get(i), op.i32(step), op.add, op.set(i), op.br(0), op.end, op.end);
  }

  bytes(): number[] {
    const groups = this.locals.map((t) => [1, t]);
    const body = [...vec(groups), ...this.code, ...op.end];
    return [...uleb(body.length), ...body];
  }
}

/** Byte addresses of the kernels' memory, and the layout constants baked into the code. */
export interface Addresses {
  readonly base: number;
  readonly field: number;
  readonly value: number;
  /** Per token of the row (bias included): its hash bucket, the row of its linear weight. */
  readonly bucket: number;
  readonly slots: number;
  /** Per token of the row: address of its bucket's first vector, and its field's offset in a bucket (FFM). */
  readonly addr: number;
  readonly foff: number;
  readonly count: number;
  readonly sums: number;
  readonly table: number;
  readonly slotOf: number;
  readonly touched: number;
  readonly mask: number;
  readonly grad: number;
  /** Mask words per slot, vectors per bucket, bytes per table row, f32x4 chunks per vector. */
  readonly words: number;
  readonly per: number;
  readonly rowBytes: number;
  readonly chunks: number;
  /**
   * Bytes from one vector of a bucket to the next, and from a vector's weights to its AdaGrad sums:
   * FM's rows are [w | G] (rowBytes, 16·chunks); FFM keeps a bucket's weights together, then their
   * sums (16·chunks, per·16·chunks), so the pair loops read only weights' cache lines.
   */
  readonly vecBytes: number;
  readonly stateOff: number;
  /** The linear term's table ([w, state…] per bucket, linBytes each) and whether the kernels step it (AdaGrad) or JS does (FTRL). */
  readonly lin: number;
  readonly linBytes: number;
  readonly linearSteps: boolean;
}

/** Function indices: slot, forward, backward, accumulate, apply. */
const SLOT = 0;
/** backward(n, t, κ, lr, l2, eps, l2Linear) and accumulate(n, t, κ). */
const UPDATE_PARAMS = [I32, I32, F32, F32, F32, F32, F32];
const ACCUMULATE_PARAMS = [I32, I32, F32];

/**
 * The five functions of a kernel module, in export order: slot, forward, backward, accumulate, apply.
 * n is the row's tokens with factors (scratch [0, n)), t all its tokens ([0, t): the bias after them),
 * which take part in the linear term.
 */
export function kernelFunctions(kind: 'fm' | 'ffm', m: Addresses): Fn[] {
  return [slotFn(m), kind === 'fm' ? fmForward(m) : ffmForward(m), ...(kind === 'fm' ? [fmUpdate(m, true), fmUpdate(m, false)] : [ffmUpdate(m, true), ffmUpdate(m, false)]), applyFn(m)];
}

/** slot(bucket) → the bucket's slot in this batch, 0-based; a new slot gets zeroed sums and mask. */
function slotFn(m: Addresses): Fn {
  const f = new Fn([I32], [I32]);
  const [s, c, end] = [f.local(I32), f.local(I32), f.local(I32)];
  f.emit(op.get(0), op.i32(4), op.mul, op.i32(m.slotOf), op.add, op.i32load(), op.tee(s), op.eqz, op.if);
  // New in this batch: slot = ++count, stored 1-based so 0 means none.
  f.emit(op.i32(m.count), op.i32(m.count), op.i32load(), op.i32(1), op.add, op.tee(s), op.i32store());
  f.emit(op.get(0), op.i32(4), op.mul, op.i32(m.slotOf), op.add, op.get(s), op.i32store());
  f.emit(op.get(s), op.i32(1), op.sub, op.set(s));
  f.emit(op.get(s), op.i32(4), op.mul, op.i32(m.touched), op.add, op.get(0), op.i32store());
  for (let w = 0; w < m.words; w++) f.emit(op.get(s), op.i32(4 * m.words), op.mul, op.i32(m.mask + 4 * w), op.add, op.i32(0), op.i32store());
  f.emit(op.get(s), op.i32(slotBytes(m)), op.mul, op.i32(m.grad), op.add, op.tee(c), op.i32(slotBytes(m)), op.add, op.set(end));
  f.emit(op.block, op.loop, op.get(c), op.get(end), op.ltS, op.eqz, op.brIf(1), op.get(c), op.vzero, op.vstore(), op.get(c), op.i32(16), op.add, op.set(c), op.br(0), op.end, op.end);
  f.emit(op.get(s), op.ret, op.end);
  f.emit(op.get(s), op.i32(1), op.sub);
  return f;
}

/** Bytes of one slot's sums: a vector per factor row of the bucket, then (linearSteps) the linear weight's sum in a 16-byte cell. */
const slotBytes = (m: Addresses): number => linSumOffset(m) + (m.linearSteps ? 16 : 0);
const linSumOffset = (m: Addresses): number => m.per * 16 * m.chunks;

/** Turns local s from a slot into the address of its sum for vector `field` (local), setting the field's mask bit. */
function sumAddress(f: Fn, m: Addresses, s: number, field: number, tmp: number): void {
  // mask[s·words + field >> 5] |= 1 << (field & 31)
  f.emit(op.get(s), op.i32(m.words), op.mul, op.get(field), op.i32(5), op.shrU, op.add, op.i32(4), op.mul, op.i32(m.mask), op.add, op.tee(tmp));
  f.emit(op.get(tmp), op.i32load(), op.i32(1), op.get(field), op.i32(31), op.and, op.shl, op.or, op.i32store());
  f.emit(op.get(s), op.i32(slotBytes(m)), op.mul, op.get(field), op.i32(16 * m.chunks), op.mul, op.add, op.i32(m.grad), op.add, op.set(s));
}

/** Loads base, field and value of token i into locals. */
function token(f: Fn, m: Addresses, i: number, base: number, field: number | null, value: number): void {
  f.emit(op.get(i), op.i32(4), op.mul, op.tee(base), op.i32load(m.field), field === null ? op.drop : op.set(field));
  f.emit(op.get(base), op.f32load(m.value), op.set(value));
  f.emit(op.get(base), op.i32load(m.base), op.set(base));
}

/** Address of factor row (local r) in the table. */
const rowAddress = (m: Addresses, r: number[]): number[] => [...r, ...op.i32(m.rowBytes), ...op.mul, ...op.i32(m.table), ...op.add];

/** The AdaGrad step of one f32x4 chunk: w at p + off, its sum at p + off + stateOff, gradient in local g (l2 added here). */
function adagradChunk(f: Fn, m: Addresses, p: number, off: number, g: number, w: number, acc: number, lr: number, l2: number, eps: number): void {
  const sumOff = off + m.stateOff;
  f.emit(op.get(p), op.vload(off), op.set(w));
  f.emit(op.get(g), op.get(l2), op.get(w), op.vmul, op.vadd, op.set(g));
  f.emit(op.get(p), op.get(p), op.vload(sumOff), op.get(g), op.get(g), op.vmul, op.vadd, op.tee(acc), op.vstore(sumOff));
  f.emit(op.get(p), op.get(w), op.get(lr), op.get(g), op.vmul, op.get(acc), op.vsqrt, op.get(eps), op.vadd, op.vdiv, op.vsub, op.vstore(off));
}

/** Pushes the linear term Σ_{j<t} w[bucket_j]·x_j (f32) of the row's t tokens (t: parameter 1). */
function linearForward(f: Fn, m: Addresses): void {
  const [j4, acc] = [f.local(I32), f.local(F32)];
  f.emit(op.f32(0), op.set(acc));
  f.forLoop(j4, op.i32(0), [...op.get(1), ...op.i32(4), ...op.mul], () => {
    f.emit(op.get(j4), op.i32load(m.bucket), op.i32(m.linBytes), op.mul, op.f32load(m.lin), op.get(j4), op.f32load(m.value), op.f32mul, op.get(acc), op.f32add, op.set(acc));
  }, 4);
  f.emit(op.get(acc));
}

/** AdaGrad's step on the linear weight at address p (its sum at p + 4), loss gradient in f32 local g; lr, l2, eps push f32s. */
function linearStep(f: Fn, p: number, g: number, acc: number, lr: number[], l2: number[], eps: number[]): void {
  f.emit(op.get(g), l2, op.get(p), op.f32load(), op.f32mul, op.f32add, op.set(g));
  f.emit(op.get(p), op.get(p), op.f32load(4), op.get(g), op.get(g), op.f32mul, op.f32add, op.tee(acc), op.f32store(4));
  f.emit(op.get(p), op.get(p), op.f32load(), lr, op.get(g), op.f32mul, op.get(acc), op.f32sqrt, eps, op.f32add, op.f32div, op.f32sub, op.f32store());
}

/** backward's linear steps (linearSteps): g = κ·x_j for each of the row's t tokens, one after another as online learning takes them. */
function linearBackward(f: Fn, m: Addresses): void {
  if (!m.linearSteps) return;
  const [j4, p] = [f.local(I32), f.local(I32)];
  const [g, acc] = [f.local(F32), f.local(F32)];
  f.forLoop(j4, op.i32(0), [...op.get(1), ...op.i32(4), ...op.mul], () => {
    f.emit(op.get(j4), op.i32load(m.bucket), op.i32(m.linBytes), op.mul, op.i32(m.lin), op.add, op.set(p));
    f.emit(op.get(2), op.get(j4), op.f32load(m.value), op.f32mul, op.set(g));
    linearStep(f, p, g, acc, op.get(3), op.get(6), op.get(5));
  }, 4);
}

interface PairLocals {
  /** Byte offsets of tokens a and b in the scratch arrays. */
  readonly a4: number;
  readonly b4: number;
  /** Addresses of w_{a,f_b} and w_{b,f_a}, and x_a·x_b (f32). */
  readonly pa: number;
  readonly pb: number;
  readonly xab: number;
}

/**
 * Runs body once per token pair a < b with PairLocals set. Each token's bucket address and field
 * offset are computed once per row, so a pair costs two loads and two adds to address.
 */
function pairLoop(f: Fn, m: Addresses, body: (l: PairLocals) => void): void {
  const [n4, j4, a4, b4, addrA, foffA, pa, pb] = new Array(8).fill(0).map(() => f.local(I32));
  const [xa, xab] = [f.local(F32), f.local(F32)];
  f.emit(op.get(0), op.i32(4), op.mul, op.set(n4));
  f.forLoop(j4, op.i32(0), op.get(n4), () => {
    f.emit(op.get(j4), op.get(j4), op.i32load(m.base), op.i32(m.rowBytes), op.mul, op.i32(m.table), op.add, op.i32store(m.addr));
    f.emit(op.get(j4), op.get(j4), op.i32load(m.field), op.i32(m.vecBytes), op.mul, op.i32store(m.foff));
  }, 4);
  f.forLoop(a4, op.i32(0), op.get(n4), () => {
    f.emit(op.get(a4), op.i32load(m.addr), op.set(addrA), op.get(a4), op.i32load(m.foff), op.set(foffA), op.get(a4), op.f32load(m.value), op.set(xa));
    f.forLoop(b4, [...op.get(a4), ...op.i32(4), ...op.add], op.get(n4), () => {
      f.emit(op.get(addrA), op.get(b4), op.i32load(m.foff), op.add, op.set(pa));
      f.emit(op.get(b4), op.i32load(m.addr), op.get(foffA), op.add, op.set(pb));
      f.emit(op.get(xa), op.get(b4), op.f32load(m.value), op.f32mul, op.set(xab));
      body({ a4, b4, pa, pb, xab });
    }, 4);
  }, 4);
}

function ffmForward(m: Addresses): Fn {
  const f = new Fn([I32, I32], [F32]);
  const [total, x] = [f.local(V128), f.local(V128)];
  f.emit(op.vzero, op.set(total));
  pairLoop(f, m, ({ pa, pb, xab }) => {
    f.emit(op.get(xab), op.splat, op.set(x));
    for (let k = 0; k < m.chunks; k++) f.emit(op.get(total), op.get(pa), op.vload(16 * k), op.get(pb), op.vload(16 * k), op.vmul, op.get(x), op.vmul, op.vadd, op.set(total));
  });
  sumLanes(f, total);
  linearForward(f, m);
  f.emit(op.f32add);
  return f;
}

function sumLanes(f: Fn, v: number): Fn {
  f.emit(op.get(v), op.lane(0), op.get(v), op.lane(1), op.f32add, op.get(v), op.lane(2), op.f32add, op.get(v), op.lane(3), op.f32add);
  return f;
}

/**
 * Each token's slot into the slots scratch (mini-batches, accumulate's κ in parameter 2): the row's
 * t tokens, adding κ·x to each one's linear sum, when the kernels step the linear term; else its n
 * tokens with factors.
 */
function stageSlots(f: Fn, m: Addresses, j: number, tmp: number): void {
  f.forLoop(j, op.i32(0), op.get(m.linearSteps ? 1 : 0), () => {
    f.emit(op.get(j), op.i32(4), op.mul, op.get(j), op.i32(4), op.mul, op.i32load(m.bucket), op.call(SLOT), op.tee(tmp), op.i32store(m.slots));
    if (!m.linearSteps) return;
    f.emit(op.get(tmp), op.i32(slotBytes(m)), op.mul, op.i32(m.grad + linSumOffset(m)), op.add, op.tee(tmp));
    f.emit(op.get(tmp), op.f32load(), op.get(2), op.get(j), op.i32(4), op.mul, op.f32load(m.value), op.f32mul, op.f32add, op.f32store());
  });
}

/**
 * FFM accumulate's mask bits, once per token instead of once per pair: token a's vectors used by the
 * row are those of the other tokens' fields, i.e. all the row's fields but f_a unless another token
 * shares f_a (dup). Then turns each token's slot in the slots scratch into its sums' address.
 * Bits and sums are the ones the pair loop would set, so the learned model is unchanged.
 */
function markRowVectors(f: Fn, m: Addresses, j: number, fj: number, bit: number, tmp: number): void {
  const rowBits = Array.from({ length: m.words }, () => f.local(I32));
  const dup = Array.from({ length: m.words }, () => f.local(I32));
  const word = f.local(I32);
  for (let w = 0; w < m.words; w++) f.emit(op.i32(0), op.set(rowBits[w]), op.i32(0), op.set(dup[w]));
  const fieldBit = (): void => {
    f.emit(op.get(j), op.i32(4), op.mul, op.i32load(m.field), op.tee(fj), op.i32(5), op.shrU, op.set(word));
    f.emit(op.i32(1), op.get(fj), op.i32(31), op.and, op.shl, op.set(bit));
  };
  f.forLoop(j, op.i32(0), op.get(0), () => {
    fieldBit();
    for (let w = 0; w < m.words; w++) {
      // This word's share of the bit: the bit if the field is in word w, else 0.
      f.emit(op.get(bit), op.i32(0), op.get(word), op.i32(w), op.eq, op.select, op.set(tmp));
      f.emit(op.get(dup[w]), op.get(rowBits[w]), op.get(tmp), op.and, op.or, op.set(dup[w]));
      f.emit(op.get(rowBits[w]), op.get(tmp), op.or, op.set(rowBits[w]));
    }
  });
  f.forLoop(j, op.i32(0), op.get(0), () => {
    fieldBit();
    for (let w = 0; w < m.words; w++) {
      // mask[slot·words + w] |= rowBits[w] & ~(own bit unless duplicated)
      f.emit(op.get(j), op.i32(4), op.mul, op.i32load(m.slots), op.i32(4 * m.words), op.mul, op.i32(m.mask + 4 * w), op.add, op.tee(tmp));
      f.emit(op.get(tmp), op.i32load(), op.get(rowBits[w]));
      f.emit(op.get(bit), op.get(dup[w]), op.i32(-1), op.xor, op.and, op.i32(0), op.get(word), op.i32(w), op.eq, op.select, op.i32(-1), op.xor, op.and);
      f.emit(op.or, op.i32store());
    }
    f.emit(op.get(j), op.i32(4), op.mul, op.get(j), op.i32(4), op.mul, op.i32load(m.slots), op.i32(slotBytes(m)), op.mul, op.i32(m.grad), op.add, op.i32store(m.slots));
  });
}

/** backward (direct AdaGrad) or accumulate (sums per bucket slot) of FFM. */
function ffmUpdate(m: Addresses, direct: boolean): Fn {
  if (m.vecBytes !== 16 * m.chunks) throw new PctrError('PCTR_INTERNAL', 'FFM kernels need a bucket\'s weights together (vecBytes = a vector)');
  const f = new Fn(direct ? UPDATE_PARAMS : ACCUMULATE_PARAMS, []);
  const [sa, sb, fa, fb, tmp] = new Array(5).fill(0).map(() => f.local(I32));
  const [k, wa, wb, ga, gb, acc, lr, l2, eps] = new Array(9).fill(0).map(() => f.local(V128));
  if (direct) {
    f.emit(op.get(3), op.splat, op.set(lr), op.get(4), op.splat, op.set(l2), op.get(5), op.splat, op.set(eps));
    linearBackward(f, m);
  } else {
    stageSlots(f, m, sa, tmp);
    markRowVectors(f, m, sa, fa, fb, tmp);
  }
  pairLoop(f, m, ({ a4, b4, pa, pb, xab }) => {
    f.emit(op.get(2), op.get(xab), op.f32mul, op.splat, op.set(k));
    if (!direct) {
      // Sum of w_{a,f_b} at a's slot address plus f_b's offset in a slot (its table offset foff: vecBytes is a vector's bytes).
      f.emit(op.get(a4), op.i32load(m.slots), op.get(b4), op.i32load(m.foff), op.add, op.set(sa));
      f.emit(op.get(b4), op.i32load(m.slots), op.get(a4), op.i32load(m.foff), op.add, op.set(sb));
    }
    for (let c = 0; c < m.chunks; c++) {
      // Both gradients from the values before either step.
      f.emit(op.get(pa), op.vload(16 * c), op.set(wa), op.get(pb), op.vload(16 * c), op.set(wb));
      f.emit(op.get(k), op.get(wb), op.vmul, op.set(ga), op.get(k), op.get(wa), op.vmul, op.set(gb));
      if (direct) {
        adagradChunk(f, m, pa, 16 * c, ga, wa, acc, lr, l2, eps);
        adagradChunk(f, m, pb, 16 * c, gb, wb, acc, lr, l2, eps);
      } else {
        f.emit(op.get(sa), op.get(sa), op.vload(16 * c), op.get(ga), op.vadd, op.vstore(16 * c));
        f.emit(op.get(sb), op.get(sb), op.vload(16 * c), op.get(gb), op.vadd, op.vstore(16 * c));
      }
    }
  });
  return f;
}

/** FM forward: Σ v·x per chunk into sums (kept for backward), ½ Σ (S² − Σ (v·x)²). */
function fmForward(m: Addresses): Fn {
  const f = new Fn([I32, I32], [F32]);
  const [a, r] = [f.local(I32), f.local(I32)];
  const xa = f.local(F32);
  const [x, v, sq] = [f.local(V128), f.local(V128), f.local(V128)];
  const sums = Array.from({ length: m.chunks }, () => f.local(V128));
  f.emit(op.vzero, op.set(sq));
  for (const s of sums) f.emit(op.vzero, op.set(s));
  f.forLoop(a, op.i32(0), op.get(0), () => {
    token(f, m, a, r, null, xa);
    f.emit(rowAddress(m, op.get(r)), op.set(r), op.get(xa), op.splat, op.set(x));
    sums.forEach((s, c) => {
      f.emit(op.get(r), op.vload(16 * c), op.get(x), op.vmul, op.tee(v), op.get(s), op.vadd, op.set(s));
      f.emit(op.get(v), op.get(v), op.vmul, op.get(sq), op.vadd, op.set(sq));
    });
  });
  sums.forEach((s, c) => f.emit(op.i32(m.sums), op.get(s), op.vstore(16 * c)));
  sums.forEach((s) => f.emit(op.get(sq), op.get(s), op.get(s), op.vmul, op.vsub, op.set(sq)));
  // sq now holds Σ (v·x)² − S²: the interactions are minus half its lanes' sum.
  sumLanes(f, sq);
  f.emit(op.f32(-0.5), op.f32mul);
  linearForward(f, m);
  f.emit(op.f32add);
  return f;
}

/** FM backward (direct AdaGrad) or accumulate: g = κ·x·(S − v·x) per factor vector. */
function fmUpdate(m: Addresses, direct: boolean): Fn {
  const f = new Fn(direct ? UPDATE_PARAMS : ACCUMULATE_PARAMS, []);
  const [a, r, p, s, zero, tmp] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const xa = f.local(F32);
  const [x, kx, w, g, acc, lr, l2, eps] = new Array(8).fill(0).map(() => f.local(V128));
  if (direct) {
    f.emit(op.get(3), op.splat, op.set(lr), op.get(4), op.splat, op.set(l2), op.get(5), op.splat, op.set(eps));
    linearBackward(f, m);
  } else stageSlots(f, m, a, tmp);
  f.forLoop(a, op.i32(0), op.get(0), () => {
    token(f, m, a, r, null, xa);
    f.emit(rowAddress(m, op.get(r)), op.set(p), op.get(xa), op.splat, op.set(x), op.get(2), op.get(xa), op.f32mul, op.splat, op.set(kx));
    if (!direct) {
      f.emit(op.get(a), op.i32(4), op.mul, op.i32load(m.slots), op.set(s), op.i32(0), op.set(zero));
      sumAddress(f, m, s, zero, tmp);
    }
    for (let c = 0; c < m.chunks; c++) {
      f.emit(op.get(kx), op.i32(m.sums), op.vload(16 * c), op.get(p), op.vload(16 * c), op.get(x), op.vmul, op.vsub, op.vmul, op.set(g));
      if (direct) adagradChunk(f, m, p, 16 * c, g, w, acc, lr, l2, eps);
      else f.emit(op.get(s), op.get(s), op.vload(16 * c), op.get(g), op.vadd, op.vstore(16 * c));
    }
  });
  return f;
}

/** One AdaGrad step per vector summed in this batch, with gradient scale · sum; then no slot is in use. */
function applyFn(m: Addresses): Fn {
  const f = new Fn([F32, F32, F32, F32, F32], []);
  const [i, n, r, p, s, field] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const [lg, lacc] = [f.local(F32), f.local(F32)];
  const [scale, g, w, acc, lr, l2, eps] = new Array(7).fill(0).map(() => f.local(V128));
  f.emit(op.get(0), op.splat, op.set(scale), op.get(1), op.splat, op.set(lr), op.get(2), op.splat, op.set(l2), op.get(3), op.splat, op.set(eps));
  f.emit(op.i32(m.count), op.i32load(), op.set(n));
  f.forLoop(i, op.i32(0), op.get(n), () => {
    f.emit(op.get(i), op.i32(4), op.mul, op.i32(m.touched), op.add, op.i32load(), op.set(r));
    if (m.linearSteps) {
      // Every slot's bucket came from a token, so its linear weight takes a step (parameter 4: l2Linear).
      f.emit(op.get(r), op.i32(m.linBytes), op.mul, op.i32(m.lin), op.add, op.set(p));
      f.emit(op.get(i), op.i32(slotBytes(m)), op.mul, op.i32(m.grad + linSumOffset(m)), op.add, op.f32load(), op.get(0), op.f32mul, op.set(lg));
      linearStep(f, p, lg, lacc, op.get(1), op.get(4), op.get(3));
    }
    f.forLoop(field, op.i32(0), op.i32(m.per), () => {
      // Only vectors some row of the batch used take a step (their mask bit is set).
      f.emit(op.get(i), op.i32(m.words), op.mul, op.get(field), op.i32(5), op.shrU, op.add, op.i32(4), op.mul, op.i32(m.mask), op.add, op.i32load());
      f.emit(op.i32(1), op.get(field), op.i32(31), op.and, op.shl, op.and, op.if);
      f.emit(rowAddress(m, [...op.get(r), ...op.i32(m.per), ...op.mul]), op.get(field), op.i32(m.vecBytes), op.mul, op.add, op.set(p));
      f.emit(op.get(i), op.i32(slotBytes(m)), op.mul, op.get(field), op.i32(16 * m.chunks), op.mul, op.add, op.i32(m.grad), op.add, op.set(s));
      for (let c = 0; c < m.chunks; c++) {
        f.emit(op.get(s), op.vload(16 * c), op.get(scale), op.vmul, op.set(g));
        adagradChunk(f, m, p, 16 * c, g, w, acc, lr, l2, eps);
      }
      f.emit(op.end);
    });
    f.emit(op.get(r), op.i32(4), op.mul, op.i32(m.slotOf), op.add, op.i32(0), op.i32store());
  });
  f.emit(op.i32(m.count), op.i32(0), op.i32store());
  return f;
}

