/**
 * Load generator of the serving benchmark, run as its own process (so the gateway and the load
 * do not share an event loop): autocannon cycles through pre-generated rank request bodies for
 * `--duration` seconds on `--connections` keep-alive connections. Latency is taken from every
 * response at sub-millisecond resolution (autocannon's own histogram rounds to whole ms).
 * Prints one JSON object: req/s, latency percentiles, errors, non-2xx answers, and the CPU time per
 * request of the server (`--pid`, from /proc, Linux: all its threads, and its main thread alone — the
 * event loop that caps a gateway at about 1e6 / µs per request) and of this load generator during the
 * run — on a shared machine the CPU cost per request says more about capacity than req/s does.
 *
 * With `--latencies FILE` it also writes every measured response as `[start, latency]` pairs (epoch
 * ms, ms) in binary float64, for benchmarks that split one run into phases.
 *
 *   node --import tsx bench/serving-load.ts --url http://127.0.0.1:8080 --bodies FILE [--duration 10] [--connections 4] [--pid N] [--latencies FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { flag, percentile } from './lib/report.ts';

const url = flag('url', '');
const bodies = JSON.parse(readFileSync(flag('bodies', ''), 'utf8')) as unknown[];
const duration = Number(flag('duration', '10'));
const connections = Number(flag('connections', '4'));
const serverPid = flag('pid', '');
const key = flag('key', 'bench-client');
const warmupSec = Number(flag('warmup', '2'));

const texts = bodies.map((b) => JSON.stringify(b));
let next = 0;

async function run(seconds: number): Promise<{ reqPerSec: number; latencies: Float64Array; starts: Float64Array; count: number; errors: number; non2xx: number }> {
  const latencies = new Float64Array(Math.max(1024, Math.ceil(seconds * 20_000)));
  const starts = new Float64Array(latencies.length);
  let count = 0;
  const instance = autocannon({
    url: `${url}/v1/rank`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: texts[next++ % texts.length] }) }],
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
    if (statusCode === 200 && count < latencies.length) {
      starts[count] = Date.now() - ms;
      latencies[count++] = ms;
    }
  });
  const result = await instance;
  return { reqPerSec: result.requests.average, latencies: latencies.subarray(0, count), starts: starts.subarray(0, count), count, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

/** User + system CPU seconds of a process (`pid`) or one of its threads (`pid/task/tid`) so far (Linux /proc; NaN elsewhere). */
function cpuSecondsOf(pid: string): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

if (warmupSec > 0) await run(warmupSec);
const server0 = serverPid ? cpuSecondsOf(serverPid) : NaN;
// The main thread is the task whose id is the process id.
const main0 = serverPid ? cpuSecondsOf(`${serverPid}/task/${serverPid}`) : NaN;
const self0 = process.cpuUsage();
const r = await run(duration);
const selfCpu = process.cpuUsage(self0);
const serverCpu = serverPid ? cpuSecondsOf(serverPid) - server0 : NaN;
const mainCpu = serverPid ? cpuSecondsOf(`${serverPid}/task/${serverPid}`) - main0 : NaN;
const latenciesFile = flag('latencies', '');
if (latenciesFile !== '') {
  const pairs = new Float64Array(2 * r.count);
  for (let i = 0; i < r.count; i++) [pairs[2 * i], pairs[2 * i + 1]] = [r.starts[i], r.latencies[i]];
  writeFileSync(latenciesFile, pairs);
}
process.stdout.write(
  `${JSON.stringify({
    reqPerSec: r.count / duration,
    autocannonReqPerSec: r.reqPerSec,
    p50: percentile(r.latencies, 0.5),
    p99: percentile(r.latencies, 0.99),
    p999: percentile(r.latencies, 0.999),
    responses: r.count,
    serverCpuUsPerRequest: (serverCpu * 1e6) / r.count,
    serverMainThreadCpuUsPerRequest: (mainCpu * 1e6) / r.count,
    loadCpuUsPerRequest: (selfCpu.user + selfCpu.system) / r.count,
    errors: r.errors,
    non2xx: r.non2xx,
  })}\n`,
);
