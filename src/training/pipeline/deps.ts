/**
 * What the batch pipeline's steps need from the rest of pctr, injected so the same steps run in
 * `pctr start`, `pctr train` and every `pctr worker`, and so tests pass real stores of their own.
 */
import { join } from 'node:path';
import type { FeatureSchema, Logger } from '../../core/index.ts';
import type { OfflineStore } from '../../features/index.ts';
import type { Registry } from '../../registry/index.ts';
import type { RunStore } from '../run-store/run-store.ts';

export interface BatchPipelineDeps {
  /** Where examples come from: the offline store (only `read` and `stats` are used). */
  readonly offline: Pick<OfflineStore, 'read' | 'stats'>;
  readonly registry: Registry;
  /** For the drift reference (the last successful run) and the gate record. */
  readonly runs: RunStore;
  /** Run files (snapshots, artifacts) live in `workDir/<runId>/`; shared storage when workers run on several hosts. */
  readonly workDir: string;
  /** Feature schema trained on (default: the served feature set). */
  readonly schema?: FeatureSchema;
  /** Train in a worker thread (default true): keeps the event loop free for serving and job-lock renewals. */
  readonly fitInThread?: boolean;
  /** Recorded with each registered version (default: `git describe`, else the package version). */
  readonly codeVersion?: string;
  readonly logger?: Logger;
}

export function runDir(workDir: string, runId: string): string {
  return join(workDir, runId);
}

/** File names inside a run's directory. */
export const FILES = {
  train: 'train.snap',
  calibration: 'calibration.snap',
  test: 'test.snap',
  artifact: 'model.pctr',
} as const;
