/**
 * Debian's nginx for tests: the checked-in deploy/nginx.conf, rewritten for this machine (the
 * gateways' local addresses as the upstream, a free local port, pid/logs/temp files under a
 * temporary prefix), started in the foreground (`daemon off`) and stopped with the test. Works as
 * root (`user root;`: workers would otherwise run as nobody and could not write temp files under
 * the private temporary prefix) and as an ordinary user (every path it writes is under the prefix;
 * `-e` keeps it from opening the compiled-in /var/log/nginx/error.log before it reads the config).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnProcess, waitFor, type ManagedProcess } from './processes.ts';

/** The nginx config the deployment uses (docker compose) and the distributed test rewrites. */
export const DEPLOY_NGINX_CONF = fileURLToPath(new URL('../../deploy/nginx.conf', import.meta.url));

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'];

/** Path of the nginx binary, or null when none is installed (apt-get install nginx-light). */
export function nginxBinary(): string | null {
  for (const path of CANDIDATES) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here; try the next place
    }
  }
  return null;
}

export interface NginxRender {
  /** `host:port` of each gateway. */
  readonly upstreams: readonly string[];
  /** Local port nginx listens on (127.0.0.1). */
  readonly port: number;
  /** Directory for pid, logs and temp files. */
  readonly prefix: string;
  /** Add `user root;` (nginx started as root). */
  readonly asRoot: boolean;
}

function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  const matches = text.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`));
  if (!matches || matches.length === 0) throw new Error(`deploy/nginx.conf has no ${what} (pattern ${pattern}); the distributed test rewrites it`);
  return text.replace(pattern, replacement);
}

/**
 * deploy/nginx.conf with the upstream servers, the listen address and the file paths replaced.
 * Throws naming the missing part when the config no longer has the shape this rewrite expects, so
 * a change to the deployment config cannot silently leave the test on something else.
 */
export function renderNginxConf(template: string, opts: NginxRender): string {
  const upstream = /(upstream pctr_gateways \{[^}]*?)((?:\s*server [^;]+;)+)/;
  const serverParams = template.match(/upstream pctr_gateways \{[^}]*?\s*server \S+((?: [^;]+)?);/)?.[1] ?? '';
  let conf = replaceOnce(template, upstream, `$1${opts.upstreams.map((u) => `\n        server ${u}${serverParams};`).join('')}`, 'upstream pctr_gateways with server lines');
  conf = replaceOnce(conf, /listen 8080;/, `listen 127.0.0.1:${opts.port};`, '"listen 8080;"');
  conf = replaceOnce(conf, /access_log \/dev\/stdout pctr[^;]*;/, `access_log ${join(opts.prefix, 'access.log')} pctr;`, 'access_log to /dev/stdout with format pctr');
  const main = [`pid ${join(opts.prefix, 'nginx.pid')};`, ...(opts.asRoot ? ['user root;'] : [])].join('\n');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${join(opts.prefix, 'tmp', t)};`).join('\n');
  conf = replaceOnce(conf, /^http \{$/m, `http {\n${temp}`, '"http {" block');
  return `${main}\n${conf}`;
}

export interface Nginx {
  readonly url: string;
  readonly port: number;
  readonly process: ManagedProcess;
  /** Lines of the access log so far (format `pctr` of deploy/nginx.conf). */
  accessLog(): string[];
  stop(): Promise<void>;
}

/** Starts nginx on a free port in front of `upstreams`; resolves once it answers /healthz with a gateway behind it. */
export async function startNginx(opts: { upstreams: readonly string[]; prefix: string }): Promise<Nginx> {
  const binary = nginxBinary();
  if (!binary) throw new Error(`nginx is not installed (looked in ${CANDIDATES.join(', ')}): apt-get install nginx-light`);
  mkdirSync(join(opts.prefix, 'tmp'), { recursive: true });
  const port = await freePort();
  const conf = join(opts.prefix, 'nginx.conf');
  writeFileSync(conf, renderNginxConf(readFileSync(DEPLOY_NGINX_CONF, 'utf8'), { ...opts, port, asRoot: process.getuid?.() === 0 }));
  const check = spawn(binary, ['-t', '-q', '-p', opts.prefix, '-e', 'stderr', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let checkErr = '';
  check.stderr.on('data', (d: Buffer) => (checkErr += d.toString()));
  const code = await new Promise<number | null>((resolve) => check.once('exit', resolve));
  if (code !== 0) throw new Error(`nginx -t rejected the rendered ${conf}: ${checkErr}`);
  const proc = spawnProcess('nginx', binary, ['-p', opts.prefix, '-e', 'stderr', '-c', conf, '-g', 'daemon off;']);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('nginx to answer /healthz through a gateway', async () => (await fetch(`${url}/healthz`).catch(() => null))?.status === 200, 15_000, proc);
  return {
    url,
    port,
    process: proc,
    accessLog: () => {
      try {
        return readFileSync(join(opts.prefix, 'access.log'), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
    // SIGQUIT is nginx's graceful stop: finish requests in flight, flush the access log.
    stop: () => proc.stop({ signal: 'SIGQUIT' }).then(() => undefined),
  };
}
