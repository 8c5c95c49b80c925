/**
 * Child process of the producer crash test: appends batches forever and prints every acknowledged
 * record as `partition offset key` lines on stdout, so the parent knows what must survive a SIGKILL.
 * Usage: node --import tsx crash-producer.fixture.ts <events-url> <run-tag>
 */
import { loadConfig } from '../../core/index.ts';
import { createEventLog } from '../index.ts';

const [url, tag] = process.argv.slice(2);
const log = await createEventLog({ ...loadConfig({ env: {} }).events, url, partitions: 4, fsync: 'always', segmentBytes: 256 * 1024 });
let seq = 0;
for (;;) {
  const n = 1 + Math.floor(Math.random() * 300);
  const records = Array.from({ length: n }, () => {
    const key = `${tag}-${seq++}`;
    return { key, value: JSON.stringify({ key, pad: 'p'.repeat(Math.floor(Math.random() * 600)) }) };
  });
  const ack = await log.append('crash', records);
  process.stdout.write(ack.offsets.map((o, i) => `${o.partition} ${o.offset} ${records[i].key}\n`).join(''));
}
