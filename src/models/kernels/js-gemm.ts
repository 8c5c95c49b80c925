/**
 * The plain typed-array GEMM: C = A·B (+ C), row-major, on offsets into one Float32Array. Four rows
 * of A at a time share each loaded row of B, and the innermost loop runs along contiguous rows of
 * B and C, the order V8's JIT compiles to tight scalar code. The fallback when WebAssembly SIMD is
 * unavailable, and the yardstick the WASM kernel was chosen against.
 */
export function gemmJs(f: Float32Array, m: number, k: number, n: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: boolean): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const c0 = c + i * ldc;
    const c1 = c0 + ldc;
    const c2 = c1 + ldc;
    const c3 = c2 + ldc;
    if (!acc) {
      f.fill(0, c0, c0 + n);
      f.fill(0, c1, c1 + n);
      f.fill(0, c2, c2 + n);
      f.fill(0, c3, c3 + n);
    }
    const a0 = a + i * lda;
    for (let p = 0; p < k; p++) {
      const x0 = f[a0 + p];
      const x1 = f[a0 + lda + p];
      const x2 = f[a0 + 2 * lda + p];
      const x3 = f[a0 + 3 * lda + p];
      const bp = b + p * ldb;
      for (let j = 0; j < n; j++) {
        const y = f[bp + j];
        f[c0 + j] += x0 * y;
        f[c1 + j] += x1 * y;
        f[c2 + j] += x2 * y;
        f[c3 + j] += x3 * y;
      }
    }
  }
  for (; i < m; i++) {
    const ci = c + i * ldc;
    if (!acc) f.fill(0, ci, ci + n);
    const ai = a + i * lda;
    for (let p = 0; p < k; p++) {
      const x = f[ai + p];
      const bp = b + p * ldb;
      for (let j = 0; j < n; j++) f[ci + j] += x * f[bp + j];
    }
  }
}

/** C = Aᵀ·B (+ C), with A stored k × m (leading dimension lda): C[i][j] = Σ_p A[p][i]·B[p][j]. */
export function gemmTnJs(f: Float32Array, m: number, k: number, n: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: boolean): void {
  if (!acc) for (let i = 0; i < m; i++) f.fill(0, c + i * ldc, c + i * ldc + n);
  for (let p = 0; p < k; p++) {
    const ap = a + p * lda;
    const bp = b + p * ldb;
    for (let i = 0; i < m; i++) {
      const x = f[ap + i];
      if (x === 0) continue;
      const ci = c + i * ldc;
      for (let j = 0; j < n; j++) f[ci + j] += x * f[bp + j];
    }
  }
}
