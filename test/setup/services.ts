/**
 * Vitest global setup: make sure a real Redis and a real PostgreSQL are reachable for the suite.
 * Uses PCTR_TEST_REDIS_URL / PCTR_TEST_PG_URL, else the standard local ports, else starts throwaway
 * servers from the installed Debian binaries on free ports with temporary data directories, and
 * stops them when the suite ends. The URLs reach the tests (and their child processes) through env.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cleanups: (() => void)[] = [];

function canConnect(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(port: number, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start on port ${port} within ${timeoutMs} ms`);
}

async function ensureRedis(): Promise<string> {
  if (process.env.PCTR_TEST_REDIS_URL) return process.env.PCTR_TEST_REDIS_URL;
  if (await canConnect(6379)) return 'redis://127.0.0.1:6379';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pctr-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  child.on('error', (e) => console.error(`cannot start redis-server (apt-get install redis-server): ${e.message}`));
  cleanups.push(() => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(port, 'redis-server');
  return `redis://127.0.0.1:${port}`;
}

function pgBinDir(): string {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  return join(base, versions[0], 'bin');
}

async function ensurePostgres(): Promise<string> {
  if (process.env.PCTR_TEST_PG_URL) return process.env.PCTR_TEST_PG_URL;
  if (await canConnect(5432)) return 'postgres://postgres@127.0.0.1:5432/test';
  const port = await freePort();
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'pctr-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const full = asRoot ? ['-u', 'postgres', '--', join(bin, cmd), ...args] : args;
    const r = spawnSync(asRoot ? 'runuser' : join(bin, cmd), full, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  run('pg_ctl', ['-D', join(dir, 'data'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', 'start', '-l', join(dir, 'log')]);
  run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'test']);
  cleanups.push(() => {
    try {
      run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return `postgres://postgres@127.0.0.1:${port}/test`;
}

export async function setup(): Promise<void> {
  process.env.PCTR_TEST_REDIS_URL = await ensureRedis();
  process.env.PCTR_TEST_PG_URL = await ensurePostgres();
  process.env.PCTR_LOG_LEVEL ??= 'warn';
}

export async function teardown(): Promise<void> {
  for (const c of cleanups.reverse()) c();
}
