/**
 * The deployment files (deploy/) against the code they deploy, since no Docker engine runs here:
 * the compose file parses; every pctr container runs a real subcommand with real flags, with an
 * environment of real settings that loads as a valid config; the join workers cover every index
 * once; nginx's upstream is exactly the gateway containers on the port they listen on; the image's
 * environment is real settings too.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../src/cli/main.ts';
import { listSettings, loadConfig } from '../src/core/index.ts';

const deployFile = (name: string) => readFileSync(fileURLToPath(new URL(`../deploy/${name}`, import.meta.url)), 'utf8');

interface Service {
  readonly image?: string;
  readonly command?: string[];
  readonly environment?: Record<string, string>;
  readonly volumes?: string[];
  readonly ports?: string[];
}

const compose = parse(deployFile('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const pctrServices = Object.entries(compose.services).filter(([, s]) => s.image === 'pctr:local');
const settingVars = new Set(listSettings().map((s) => s.setting.env));
const program = buildProgram();

/** Compose's `${VAR:-default}`, with the default (the test does not read this machine's environment). */
function interpolate(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace(/\$\{\w+:-([^}]*)\}/g, '$1')]));
}

function subcommand(name: string): Command {
  const cmd = program.commands.find((c) => c.name() === name);
  if (!cmd) throw new Error(`pctr has no subcommand "${name}" (it has ${program.commands.map((c) => c.name()).join(', ')})`);
  return cmd;
}

function flagValue(command: readonly string[], flag: string): string | undefined {
  const i = command.indexOf(flag);
  return i < 0 ? undefined : command[i + 1];
}

describe('deploy/docker-compose.yml', () => {
  it('has the services of a distributed deployment', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['aggregate', 'gateway-1', 'gateway-2', 'join-1', 'join-2', 'nginx', 'postgres', 'redis', 'train', 'worker']);
  });

  it.each(pctrServices)('%s runs a pctr subcommand with flags it has', (_name, service) => {
    const [name, ...args] = service.command ?? [];
    const cmd = subcommand(name);
    const known = new Set([...cmd.options, ...program.options].map((o) => o.long));
    for (const flag of args.filter((a) => a.startsWith('--'))) expect(known, `pctr ${name} ${flag}`).toContain(flag.split('=')[0]);
  });

  it.each(pctrServices)('%s has an environment of real settings that loads as a valid config', (_name, service) => {
    const env = interpolate(service.environment ?? {});
    expect(Object.keys(env).filter((k) => !settingVars.has(k))).toEqual([]);
    const config = loadConfig({ env });
    expect(config.training.scheduler).toBe('bullmq');
    expect(config.events.url).toMatch(/^redis:/);
    expect(config.features.onlineStore).toMatch(/^redis:/);
    expect(config.registry.url).toMatch(/^postgres:/);
  });

  it('splits the event partitions among join workers i/N, each index once', () => {
    const specs = pctrServices.filter(([, s]) => s.command?.[0] === 'join').map(([, s]) => flagValue(s.command!, '--worker')!);
    const n = Number(specs[0].split('/')[1]);
    expect(specs.every((s) => Number(s.split('/')[1]) === n)).toBe(true);
    expect(specs.map((s) => Number(s.split('/')[0])).sort()).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('points nginx at every gateway container, on the port the gateways listen on', () => {
    const nginx = compose.services.nginx;
    expect(nginx.volumes).toContain('./nginx.conf:/etc/nginx/nginx.conf:ro');
    const conf = deployFile('nginx.conf');
    const upstream = /upstream pctr_gateways \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    const servers = [...upstream.matchAll(/^\s*server (\S+)/gm)].map((m) => m[1]);
    const gateways = pctrServices.filter(([, s]) => s.command?.[0] === 'gateway').map(([name, s]) => `${name}:${flagValue(s.command!, '--port')}`);
    expect(servers.sort()).toEqual(gateways.sort());
    const listen = /^\s*listen (\d+);/m.exec(conf)?.[1];
    expect(nginx.ports).toEqual([`${listen}:${listen}`]);
  });
});

describe('deploy/Dockerfile', () => {
  it('sets only real settings', () => {
    const env = [...deployFile('Dockerfile').matchAll(/\b(PCTR_\w+)=/g)].map((m) => m[1]);
    expect(env.length).toBeGreaterThan(0);
    expect(env.filter((k) => !settingVars.has(k))).toEqual([]);
  });
});
