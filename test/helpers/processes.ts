/**
 * Child processes for multi-process tests: spawn `pctr <command>` (through core's `pctrCommand`)
 * or any binary, keep the tail of its output for failure messages, wait for a line that says it is
 * ready, notice when it dies early, and stop it (a signal, then SIGKILL after a grace period). A
 * `ProcessGroup` owns a test's processes so one call stops them all, whatever state the test is in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { pctrCommand } from '../../src/core/index.ts';

/** Output kept per process (the tail), for error messages. */
const TAIL_BYTES = 16 * 1024;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The exit, once it happened (null while running). */
  exitStatus(): Exit | null;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Last output of stdout and stderr, interleaved as it arrived. */
  output(): string;
  /** The first line (stdout or stderr, including lines already seen) matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (default SIGTERM), then SIGKILL after `graceMs` (default 20 s); resolves with the exit. */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<Exit>;
}

interface LineWaiter {
  readonly pattern: RegExp;
  readonly resolve: (line: string) => void;
}

export function spawnProcess(name: string, command: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): ManagedProcess {
  const child = spawn(command, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const seen: string[] = [];
  let waiters: LineWaiter[] = [];
  let status: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve((status = { code, signal })));
    child.once('error', (e) => {
      tail += `\n[spawn error: ${e.message}]`;
      resolve((status = { code: null, signal: null }));
    });
  });
  const onLine = (line: string) => {
    // Only lines something may still wait for are kept whole; the tail keeps the rest.
    if (seen.length < 2_000) seen.push(line);
    const waiting: LineWaiter[] = [];
    for (const w of waiters) {
      if (w.pattern.test(line)) w.resolve(line);
      else waiting.push(w);
    }
    waiters = waiting;
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-TAIL_BYTES);
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) onLine(line);
    });
  }
  const proc: ManagedProcess = {
    name,
    child,
    exited,
    exitStatus: () => status,
    output: () => tail,
    waitForLine(pattern, timeoutMs = 60_000) {
      const already = seen.find((l) => pattern.test(l));
      if (already !== undefined) return Promise.resolve(already);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${tail}`));
        }, timeoutMs);
        const done = (line: string) => {
          clearTimeout(timer);
          resolve(line);
        };
        waiters.push({ pattern, resolve: done });
        void exited.then((e) => {
          if (!waiters.some((w) => w.resolve === done)) return;
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${e.code}, signal ${e.signal}) before printing a line matching ${pattern}; output:\n${tail}`));
        });
      });
    },
    async stop({ signal = 'SIGTERM', graceMs = 20_000 } = {}) {
      if (status) return status;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return proc;
}

/** `pctr <args>` in a child process with `env` on top of this process's environment. */
export function spawnPctr(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ManagedProcess {
  const { command, args: full } = pctrCommand(args);
  return spawnProcess(name, command, full, { env });
}

/** A TCP port that was free a moment ago (bind to 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Throws naming the process when any of `procs` has exited. */
export function assertRunning(procs: readonly ManagedProcess[]): void {
  for (const p of procs) {
    const s = p.exitStatus();
    if (s) throw new Error(`${p.name} exited unexpectedly (code ${s.code}, signal ${s.signal}); output:\n${p.output()}`);
  }
}

/**
 * Polls `check` every `pollMs` until it holds; fails early when one of `watch` dies (it would never
 * hold then), and on timeout names what it waited for.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, ...watch: ManagedProcess[]): Promise<void> {
  const pollMs = 100;
  const until = Date.now() + timeoutMs;
  for (;;) {
    assertRunning(watch);
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The processes of one test: started through it, stopped together (in reverse start order). */
export class ProcessGroup {
  private readonly procs: ManagedProcess[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv = {}) {}

  pctr(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ManagedProcess {
    return this.add(spawnPctr(name, args, { ...this.env, ...env }));
  }

  add(proc: ManagedProcess): ManagedProcess {
    this.procs.push(proc);
    return proc;
  }

  /** The long-running ones: every process not yet exited must still be running. */
  assertRunning(except: readonly ManagedProcess[] = []): void {
    assertRunning(this.procs.filter((p) => !except.includes(p)));
  }

  /** Stops every process still running, all at once; resolves with each one's exit by name. */
  async stopAll(graceMs = 20_000): Promise<Map<string, Exit>> {
    const exits = await Promise.all([...this.procs].reverse().map(async (p) => [p.name, await p.stop({ graceMs })] as const));
    return new Map(exits);
  }
}
