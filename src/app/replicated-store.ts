/**
 * The primary's online store under `pctr start --workers`: the memory store the aggregates fill,
 * with every `put` also sent to each gateway worker's replica (a memory store of its own), so the
 * ranking path of a worker reads its features in its own process — no IPC round trip per request.
 * It keeps each entity's latest row, which a worker that starts (or restarts) later gets first as
 * its snapshot. Reads are the inner store's.
 *
 * Why replicas rather than one IPC read per rank request: a rank reads ~250 entities, and a round
 * trip through the primary — whose event loop also runs the aggregates, the log's appends and the
 * monitor — would put that loop's queueing delay on every request's latency (and a second core's
 * worth of serialization on a 2-core machine). A replica is as fresh as the store itself plus one
 * IPC hop: the aggregates only write on their flush, and the rows go out right after.
 */
import type { EntityRef, FeatureRow, FeatureVector, OnlineStore } from '../features/index.ts';

export class ReplicatedStore implements OnlineStore {
  private readonly latest = new Map<string, FeatureRow>();
  private readonly replicas = new Set<(rows: readonly FeatureRow[]) => void>();

  constructor(private readonly inner: OnlineStore) {}

  get(refs: readonly EntityRef[]): Promise<(FeatureVector | null)[]> {
    return this.inner.get(refs);
  }

  async put(rows: readonly FeatureRow[]): Promise<void> {
    await this.inner.put(rows);
    for (const r of rows) this.latest.set(`${r.ref.entity}\u0000${r.ref.key}`, r);
    for (const send of this.replicas) send(rows);
  }

  /**
   * Starts sending puts to a replica; returns the rows it must apply first (every entity's latest)
   * and the function that stops the sending. Rows put after this call reach `send`.
   */
  attach(send: (rows: readonly FeatureRow[]) => void): { snapshot: FeatureRow[]; detach: () => void } {
    this.replicas.add(send);
    return { snapshot: [...this.latest.values()], detach: () => this.replicas.delete(send) };
  }

  async close(): Promise<void> {
    this.replicas.clear();
    await this.inner.close();
  }
}
