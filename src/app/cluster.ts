import type { StartOptions } from './run-start.ts';

export interface ClusterOptions extends StartOptions {
  readonly workers: number;
}

export async function runCluster(opts: ClusterOptions): Promise<void> {
  void opts;
  throw new Error('not yet');
}
