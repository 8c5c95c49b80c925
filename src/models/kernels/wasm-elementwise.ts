/**
 * The DCN's elementwise steps as WebAssembly SIMD functions over m rows of d floats (d a multiple
 * of 4; `bias`-like arguments hold one value per column). Each is (pointers…, m, d) → () with byte
 * pointers into the arena (gatherRows, the embedding lookup, is described where it is built):
 *   crossForward(u, bias, x0, xl, next): u += bias; next = x0 ⊙ u + xl
 *   biasRelu(h, bias): h = max(h + bias, 0)
 *   crossBackward(g, u, x0, dx0, du, dbias): dx0 += g ⊙ u; du = g ⊙ x0; dbias += Σ_rows du
 *   reluBackward(g, h, dbias): g = g ⊙ [h > 0]; dbias += Σ_rows g
 */
import { I32, op, V128, vec, uleb, type WasmFunction } from './wasm-asm.ts';

type Code = number[][];

/**
 * A row × column loop over `arrays` pointer parameters; `perColumn` ones advance with the column
 * only. `step(at)` emits the body for one f32x4, with `at(p)` pushing array p's address.
 */
function rowsByColumns(name: string, arrays: number, perColumn: readonly number[], temps: number, step: (at: (p: number) => Code, t: number) => Code): WasmFunction {
  const M = arrays;
  const D = arrays + 1;
  const ROW = arrays + 2; // byte offset of the row
  const COL = arrays + 3; // byte offset within the row
  const ROWEND = arrays + 4;
  const D4 = arrays + 5;
  const T = arrays + 6; // v128 temps
  const at = (p: number): Code => (perColumn.includes(p) ? [op.get(p), op.get(COL), op.add] : [op.get(p), op.get(ROW), op.add, op.get(COL), op.add]);
  const code: Code = [
    op.get(D), op.i32(2), op.shl, op.set(D4),
    op.get(M), op.get(D4), op.mul, op.set(ROWEND),
    op.i32(0), op.set(ROW),
    op.block, op.loop,
    op.get(ROW), op.get(ROWEND), op.geU, op.brIf(1),
    op.i32(0), op.set(COL),
    op.block, op.loop,
    op.get(COL), op.get(D4), op.geU, op.brIf(1),
    ...step(at, T),
    op.get(COL), op.i32(16), op.add, op.set(COL),
    op.br(0), op.end, op.end,
    op.get(ROW), op.get(D4), op.add, op.set(ROW),
    op.br(0), op.end, op.end,
  ];
  const locals = vec([
    [...uleb(4), I32],
    [...uleb(temps), V128],
  ]);
  return { name, params: arrays + 2, body: [...locals, ...code.flat(), ...op.end] };
}

const load = (addr: Code): Code => [...addr, op.vload(0)];

/**
 * gatherRows(tokens, table, x0, m, fields, kBytes, strideBytes, dBytes): row r of x0 (dBytes apart)
 * gets the first kBytes of table row tokens[r·fields + j] (strideBytes apart) at j·kBytes, for
 * every field j: the embedding lookup, 16 bytes at a time, then 4.
 */
function gatherRows(): WasmFunction {
  const [TOK, TABLE, X0, M, F, KB, SB, DB] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [PT, PEND, PX, PD, J, SRC, C] = [8, 9, 10, 11, 12, 13, 14];
  const code: Code = [
    op.get(TOK), op.set(PT),
    op.get(TOK), op.get(M), op.get(F), op.mul, op.i32(2), op.shl, op.add, op.set(PEND),
    op.get(X0), op.set(PX),
    op.block, op.loop,
    op.get(PT), op.get(PEND), op.geU, op.brIf(1),
    op.get(PX), op.set(PD), op.get(F), op.set(J),
    op.block, op.loop,
    op.get(J), op.eqz, op.brIf(1),
    op.get(TABLE), op.get(PT), op.i32load, op.get(SB), op.mul, op.add, op.set(SRC),
    op.i32(0), op.set(C),
    op.block, op.loop,
    op.get(C), op.i32(16), op.add, op.get(KB), op.gtU, op.brIf(1),
    op.get(PD), op.get(C), op.add, op.get(SRC), op.get(C), op.add, op.vload(0), op.vstore(0),
    op.get(C), op.i32(16), op.add, op.set(C),
    op.br(0), op.end, op.end,
    op.block, op.loop,
    op.get(C), op.get(KB), op.geU, op.brIf(1),
    op.get(PD), op.get(C), op.add, op.get(SRC), op.get(C), op.add, op.f32load, op.f32store,
    op.get(C), op.i32(4), op.add, op.set(C),
    op.br(0), op.end, op.end,
    op.get(PD), op.get(KB), op.add, op.set(PD),
    op.get(PT), op.i32(4), op.add, op.set(PT),
    op.get(J), op.i32(1), op.sub, op.set(J),
    op.br(0), op.end, op.end,
    op.get(PX), op.get(DB), op.add, op.set(PX),
    op.br(0), op.end, op.end,
  ];
  return { name: 'gatherRows', params: 8, body: [...vec([[...uleb(7), I32]]), ...code.flat(), ...op.end] };
}

export function elementwiseFunctions(): WasmFunction[] {
  return [
    gatherRows(),
    rowsByColumns('crossForward', 5, [1], 1, (at, t) => [
      ...at(0), ...load(at(0)), ...load(at(1)), op.fadd, op.tee(t), op.vstore(0),
      ...at(4), ...load(at(2)), op.get(t), op.fmul, ...load(at(3)), op.fadd, op.vstore(0),
    ]),
    rowsByColumns('biasRelu', 2, [1], 0, (at) => [...at(0), ...load(at(0)), ...load(at(1)), op.fadd, op.vzero, op.fmax, op.vstore(0)]),
    rowsByColumns('crossBackward', 6, [5], 2, (at, t) => [
      ...load(at(0)), op.set(t),
      ...at(3), ...load(at(3)), op.get(t), ...load(at(1)), op.fmul, op.fadd, op.vstore(0),
      ...at(4), op.get(t), ...load(at(2)), op.fmul, op.tee(t + 1), op.vstore(0),
      ...at(5), ...load(at(5)), op.get(t + 1), op.fadd, op.vstore(0),
    ]),
    rowsByColumns('reluBackward', 3, [2], 1, (at, t) => [
      ...at(0), ...load(at(0)), ...load(at(1)), op.vzero, op.fgt, op.vand, op.tee(t), op.vstore(0),
      ...at(2), ...load(at(2)), op.get(t), op.fadd, op.vstore(0),
    ]),
  ];
}
