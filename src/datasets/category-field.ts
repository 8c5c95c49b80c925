import { CATEGORY_SEED, fmix32, hashCategory, MISSING_CATEGORY, mixH, mixK } from '../core/index.ts';

/**
 * Scans one delimited field starting at `p` and writes its category hash to col[row] in the same
 * pass (MurmurHash3 over character pairs, exactly hashCategory of the field's text; 0 when the
 * field is empty). Returns the position of the delimiter, or `end`. Non-ASCII fields, rare in
 * these files, are decoded and hashed as strings so the hash still matches hashCategory.
 */
export function scanCategory(b: Buffer, p: number, end: number, delimiter: number, col: Int32Array, row: number): number {
  let h = CATEGORY_SEED;
  let high = 0;
  let q = p;
  while (q < end) {
    const c0 = b[q];
    if (c0 === delimiter) break;
    const c1 = q + 1 < end ? b[q + 1] : delimiter;
    if (c1 === delimiter) {
      h ^= mixK(c0);
      high |= c0;
      q++;
      break;
    }
    high |= c0 | c1;
    h = mixH(h, c0 | (c1 << 16));
    q += 2;
  }
  const length = q - p;
  if (length === 0) {
    col[row] = MISSING_CATEGORY;
  } else if (high >= 0x80) {
    col[row] = hashCategory(b.toString('utf8', p, q));
  } else {
    const v = fmix32(h ^ (length * 2));
    col[row] = v === MISSING_CATEGORY ? 1 : v | 0;
  }
  return q;
}
