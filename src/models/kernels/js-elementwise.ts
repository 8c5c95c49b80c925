/**
 * Typed-array versions of the elementwise steps in wasm-elementwise.ts (same arguments, offsets in
 * floats), for runtimes without WebAssembly SIMD and as the reference the WASM ones are tested against.
 */
export function crossForwardJs(f: Float32Array, m: number, d: number, u: number, bias: number, x0: number, xl: number, next: number): void {
  for (let i = 0, o = 0; i < m; i++, o += d) {
    for (let c = 0; c < d; c++) {
      const uc = f[u + o + c] + f[bias + c];
      f[u + o + c] = uc;
      f[next + o + c] = f[x0 + o + c] * uc + f[xl + o + c];
    }
  }
}

export function biasReluJs(f: Float32Array, m: number, d: number, h: number, bias: number): void {
  for (let i = 0, o = h; i < m; i++, o += d) {
    for (let c = 0; c < d; c++) {
      const z = f[o + c] + f[bias + c];
      f[o + c] = z > 0 ? z : 0;
    }
  }
}

export function crossBackwardJs(f: Float32Array, m: number, d: number, g: number, u: number, x0: number, dx0: number, du: number, dbias: number): void {
  for (let i = 0, o = 0; i < m; i++, o += d) {
    for (let c = 0; c < d; c++) {
      const gc = f[g + o + c];
      f[dx0 + o + c] += gc * f[u + o + c];
      const duc = gc * f[x0 + o + c];
      f[du + o + c] = duc;
      f[dbias + c] += duc;
    }
  }
}

export function reluBackwardJs(f: Float32Array, m: number, d: number, g: number, h: number, dbias: number): void {
  for (let i = 0, o = 0; i < m; i++, o += d) {
    for (let c = 0; c < d; c++) {
      const dz = f[h + o + c] > 0 ? f[g + o + c] : 0;
      f[g + o + c] = dz;
      f[dbias + c] += dz;
    }
  }
}

export function gatherRowsJs(f: Float32Array, tokens: Int32Array, m: number, fields: number, k: number, tok: number, table: number, stride: number, x0: number, d: number): void {
  for (let i = 0; i < m; i++) {
    const row = x0 + i * d;
    const t = tok + i * fields;
    for (let j = 0; j < fields; j++) {
      const e = table + tokens[t + j] * stride;
      const o = row + j * k;
      for (let c = 0; c < k; c++) f[o + c] = f[e + c];
    }
  }
}
