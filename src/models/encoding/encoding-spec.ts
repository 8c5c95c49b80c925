/**
 * The encoder's settings as learners take them (parameters) and as artifacts store them (spec).
 * Parameters arrive as strings from the command line (`--param bits=22`), so they are coerced.
 */
import { z } from 'zod';

export const NUMERIC_BINNINGS = ['log2', 'quantile'] as const;

/** Declared crosses, `a:b` pairs separated by commas (`C1:C2,site_id:device_model`), or as pairs. */
const Crosses = z.union([
  z.array(z.tuple([z.string().min(1), z.string().min(1)])),
  z.string().transform((s, ctx) => {
    const pairs: [string, string][] = [];
    for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [a, b, extra] = part.split(':');
      if (!a || !b || extra !== undefined) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not a field pair like C1:C2` });
        return z.NEVER;
      }
      pairs.push([a, b]);
    }
    return pairs;
  }),
]);

/** Field names separated by commas (`user_id,ad_id,ad_ctr_*`), or as a list; a trailing `*` matches a prefix. */
const FieldList = z.union([
  z.array(z.string().min(1)),
  z.string().transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean)),
]);

/** Encoder parameters shared by every learner that hashes features. */
export const EncodingParams = z.object({
  /** 2^bits hash buckets. */
  bits: z.coerce.number().int().min(4).max(26).default(20),
  /** How numeric (count) fields become tokens. */
  numeric: z.enum(NUMERIC_BINNINGS).default('log2'),
  /** Bins per numeric field when numeric=quantile (fitted on training data). */
  quantileBins: z.coerce.number().int().min(2).max(1000).default(32),
  /**
   * numeric=log2: bins per octave for rates in (0, 1), such as smoothed CTRs (0 = they all share
   * bin 0, as integer counts below 1 do). 4 puts a CTR of 1% and 1.2% in different bins.
   */
  rateBins: z.coerce.number().int().min(0).max(16).default(0),
  crosses: Crosses.default([]),
  /** The schema fields the model reads (empty = all): a model may ignore served features that only add noise. */
  fields: FieldList.default([]),
});
export type EncodingParams = z.output<typeof EncodingParams>;

/** What an artifact stores: the parameters plus anything fitted from data (quantile boundaries). */
export const EncodingSpec = z.strictObject({
  bits: z.number().int().min(4).max(26),
  numeric: z.enum(NUMERIC_BINNINGS),
  quantileBins: z.number().int().min(2).max(1000),
  /** Absent in artifacts written before rate bins existed: 0. */
  rateBins: z.number().int().min(0).max(16).optional(),
  crosses: z.array(z.tuple([z.string(), z.string()])),
  /** Fields (or `prefix*` patterns) of the schema the encoder reads; absent = all. */
  fields: z.array(z.string()).optional(),
  /** Per numeric field name, sorted bin boundaries (numeric=quantile only). */
  boundaries: z.record(z.string(), z.array(z.number())).optional(),
});
export type EncodingSpec = z.output<typeof EncodingSpec>;

/** The fields of `all` that `patterns` select (a trailing `*` matches a prefix), in schema order; all when none are given. */
export function selectFields<F extends { readonly name: string }>(all: readonly F[], patterns: readonly string[] | undefined): F[] {
  if (!patterns || patterns.length === 0) return [...all];
  const match = (name: string) => patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
  return all.filter((f) => match(f.name));
}

export const ENCODING_PARAM_KEYS = Object.keys(EncodingParams.shape) as (keyof EncodingParams)[];

export function encodingSpecOf(p: EncodingParams): EncodingSpec {
  return {
    bits: p.bits,
    numeric: p.numeric,
    quantileBins: p.quantileBins,
    // Left out when 0, so the spec of a model without rate bins reads as before they existed.
    ...(p.rateBins > 0 ? { rateBins: p.rateBins } : {}),
    crosses: p.crosses.map(([a, b]) => [a, b]),
    ...(p.fields.length > 0 ? { fields: [...p.fields] } : {}),
  };
}
