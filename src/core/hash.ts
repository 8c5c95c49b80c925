/**
 * Non-cryptographic hashing shared by partitioning, feature hashing and A/B routing.
 * MurmurHash3 (x86, 32-bit) over UTF-16 code units, two per 32-bit block, so ASCII and non-ASCII
 * strings hash without first encoding to bytes.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3 block scramble; exported with mixH for fused scan-and-hash loops in parsers and encoders. */
export function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** One MurmurHash3 body round: mixes the 32-bit block k into the state h. */
export function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3 finalizer: a full-avalanche mix of one 32-bit integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit unsigned hash of a string. */
export function hashString(s: string, seed = 0): number {
  let h = seed | 0;
  const n = s.length;
  const pairs = n & ~1;
  for (let i = 0; i < pairs; i += 2) {
    h = mixH(h, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  }
  if (n & 1) h ^= mixK(s.charCodeAt(n - 1));
  h ^= n * 2;
  return fmix32(h);
}

/** 32-bit unsigned hash of two 32-bit integers (e.g. field id and value hash). */
export function hashPair(a: number, b: number, seed = 0): number {
  let h = seed | 0;
  h = mixH(h, a | 0);
  h = mixH(h, b | 0);
  h ^= 8;
  return fmix32(h);
}

/** Partition of a key among `partitions`; an impression and its clicks share the impressionId key. */
export function partitionOf(key: string, partitions: number): number {
  return hashString(key, 0x9747b28c) % partitions;
}

/** A stable number in [0, 1) for a string, e.g. for routing a share of users to a challenger. */
export function unitInterval(key: string, salt = 0): number {
  return hashString(key, salt) / 4294967296;
}
