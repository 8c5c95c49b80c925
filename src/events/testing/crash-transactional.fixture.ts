/**
 * Child process of the transactional crash tests: consumes topic `in` exactly-once into `out` (one
 * output per input, same key) with state = records processed per partition, committing after every
 * poll and printing `commit` after each; exits printing `done` once caught up with `in`.
 * Usage: node --import tsx crash-transactional.fixture.ts <events-url>
 */
import { loadConfig } from '../../core/index.ts';
import { createEventLog } from '../index.ts';

const [url] = process.argv.slice(2);
const log = await createEventLog({ ...loadConfig({ env: {} }).events, url, partitions: 4, fsync: 'always', segmentBytes: 512 * 1024 });
const tx = log.transactional('in', 'crash-job', { partitions: [0, 1, 2, 3] });
const cp = await tx.restore();
const counts = new Map([...cp.state].map(([p, s]) => [p, s === null ? 0 : (JSON.parse(s) as { count: number }).count]));
const ends = await log.endOffsets('in');
const caughtUp = (): boolean => ends.every((e, p) => (counts.get(p) ?? 0) >= e);
while (!caughtUp()) {
  const b = await tx.poll(1 + Math.floor(Math.random() * 100), 200);
  if (b.records.length === 0) continue;
  const state = new Map<number, string>();
  for (const r of b.records) counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1);
  for (const p of b.nextOffsets.keys()) state.set(p, JSON.stringify({ count: counts.get(p) }));
  const outputs = b.records.map((r) => ({ key: r.key, value: `out:${r.value}` }));
  await tx.commit({ offsets: b.nextOffsets, outputs: [{ topic: 'out', records: outputs }], state });
  process.stdout.write('commit\n');
}
await tx.close();
await log.close();
process.stdout.write('done\n');
