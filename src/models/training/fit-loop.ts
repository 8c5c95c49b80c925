/**
 * The batch-training loop every hashing learner shares: epochs over a batch source, encoding each
 * batch, optional shuffling within time windows, progressive training logloss, the checks that
 * make training data usable (labels present, both classes), and the time range trained on.
 */
import { PctrError } from '../../core/index.ts';
import type { RawBatch } from '../../core/index.ts';
import type { EncodedBatch, FeatureEncoder } from '../encoding/encoder.ts';
import type { FitOptions } from '../model.ts';
import { Random } from './random.ts';
import { ShuffleWindow } from './shuffle-window.ts';

export interface EncodedTrainer {
  readonly encoder: FeatureEncoder;
  /**
   * Learns the rows of `enc`, in `order` when given (row numbers), else in order. Returns the summed
   * logloss of the predictions made just before each row was learned (progressive validation).
   */
  learnEncoded(enc: EncodedBatch, order?: Int32Array): number;
}

export interface FitLoopOptions extends FitOptions {
  readonly epochs: number;
  /** Rows per shuffled window; 0 learns in file order. */
  readonly shuffleWindow: number;
  readonly seed: number;
}

export interface FitLoopResult {
  readonly examples: number;
  readonly positives: number;
  readonly epochs: number;
  readonly seconds: number;
  /** Progressive logloss of the last epoch. */
  readonly trainLogloss: number;
  /** Smallest and largest event time seen; row positions 0 … examples − 1 when batches carry no times. */
  readonly from: number;
  readonly to: number;
}

export async function fitEpochs(trainer: EncodedTrainer, data: () => AsyncIterable<RawBatch>, opts: FitLoopOptions): Promise<FitLoopResult> {
  const started = performance.now();
  const random = new Random(opts.seed);
  const window = opts.shuffleWindow > 0 ? new ShuffleWindow(opts.shuffleWindow) : null;
  const order = window ? new Int32Array(opts.shuffleWindow) : null;
  let examples = 0;
  let positives = 0;
  let from = Infinity;
  let to = -Infinity;
  let loss = 0;

  const learnWindow = (): void => {
    const batch = window!.drain();
    loss += trainer.learnEncoded(batch, random.permutation(order!, batch.n));
  };

  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    loss = 0;
    let epochExamples = 0;
    for await (const raw of data()) {
      opts.signal?.throwIfAborted();
      if (!raw.labels) throw new PctrError('PCTR_DATA_INVALID', 'training batches must carry labels');
      if (epoch === 0) {
        for (let i = 0; i < raw.n; i++) positives += raw.labels[i];
        if (raw.ts) {
          for (let i = 0; i < raw.n; i++) {
            if (raw.ts[i] < from) from = raw.ts[i];
            if (raw.ts[i] > to) to = raw.ts[i];
          }
        }
      }
      epochExamples += raw.n;
      const enc = trainer.encoder.encode(raw);
      if (window === null) {
        loss += trainer.learnEncoded(enc);
        continue;
      }
      for (let r = 0; r < enc.n; ) {
        r += window.add(enc, r);
        if (window.full) learnWindow();
      }
    }
    if (window !== null && window.size > 0) learnWindow();
    if (epoch === 0) {
      examples = epochExamples;
      checkClasses(examples, positives);
    }
    opts.onProgress?.((epoch + 1) / opts.epochs, `epoch ${epoch + 1}/${opts.epochs}: logloss ${(loss / epochExamples).toFixed(5)}`);
  }
  return {
    examples,
    positives,
    epochs: opts.epochs,
    seconds: (performance.now() - started) / 1000,
    trainLogloss: loss / examples,
    from: from === Infinity ? 0 : from,
    to: to === -Infinity ? examples - 1 : to,
  };
}

export function checkClasses(examples: number, positives: number): void {
  if (examples === 0) throw new PctrError('PCTR_DATA_INVALID', 'no training examples: the data source yielded no rows');
  if (positives === 0 || positives === examples) {
    throw new PctrError(
      'PCTR_DATA_INVALID',
      `training data has a single class: all ${examples} labels are ${positives === 0 ? 0 : 1}; a click model needs both clicks and non-clicks`,
      { details: { examples, positives } },
    );
  }
}
