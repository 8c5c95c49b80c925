import type { FeatureSchema, RawBatch } from '../../core/index.ts';
import { NumericSample } from '../encoding/bins.ts';
import type { EncodingSpec } from '../encoding/encoding-spec.ts';

/** Fits quantile bin boundaries from the first rows of the training data (a partial pass). */
export async function fitQuantileEncoding(schema: FeatureSchema, spec: EncodingSpec, data: () => AsyncIterable<RawBatch>, maxRows = 100_000): Promise<EncodingSpec> {
  const numeric = schema.fields.filter((f) => f.kind === 'numeric').map((f) => f.name);
  const sample = new NumericSample(numeric, maxRows);
  if (numeric.length > 0) {
    for await (const batch of data()) {
      sample.add(batch);
      if (sample.full) break;
    }
  }
  return { ...spec, boundaries: sample.boundaries(spec.quantileBins) };
}
