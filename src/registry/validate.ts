/**
 * Input checks done before any I/O: names, aliases, version references and version metadata.
 * Errors are PCTR_VALIDATION naming the offending field.
 */
import { z } from 'zod';
import { PctrError, parseOrThrow } from '../core/index.ts';
import type { VersionMeta, VersionRef } from './registry.ts';

/** `@latest` resolves to the highest version; it is never stored as an alias. */
export const LATEST = 'latest';

const ModelName = z.string().regex(/^[A-Za-z0-9][\w.-]{0,127}$/, 'must be 1-128 letters, digits, . - _ (not starting with . - _)');
const AliasName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be 1-64 lowercase letters, digits, _ -, starting with a letter')
  .refine((a) => a !== LATEST, `"${LATEST}" is reserved for the highest version`);
const Version = z.number().int().min(1).max(2 ** 31 - 1);
const Text = (max: number) => z.string().min(1).max(max);

const Meta = z.strictObject({
  kind: Text(64),
  params: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.number()),
  dataRange: z
    .strictObject({ from: z.number().int().min(0), to: z.number().int().min(0), rows: z.number().int().min(0) })
    .refine((r) => r.from <= r.to, { message: 'from must not be after to', path: ['from'] })
    .optional(),
  parentVersion: Version.optional(),
  codeVersion: Text(200).optional(),
  runId: Text(200).optional(),
  description: z.string().max(10_000).optional(),
  idempotencyKey: Text(200).optional(),
});

const Digest = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256)');

export function checkModelName(name: unknown): string {
  return parseOrThrow(ModelName, name, 'model name');
}

export function checkAlias(alias: unknown): string {
  return parseOrThrow(AliasName, alias, 'alias');
}

export function checkVersion(version: unknown): number {
  return parseOrThrow(Version, version, 'version');
}

export function checkDigest(digest: unknown): string {
  return parseOrThrow(Digest, digest, 'digest');
}

/** Validated metadata plus its params as JSON text (params must survive JSON). */
export function checkMeta(meta: unknown): { meta: VersionMeta; paramsJson: string } {
  const m = parseOrThrow(Meta, meta, 'version metadata');
  let paramsJson: string;
  try {
    paramsJson = JSON.stringify(m.params);
  } catch (e) {
    throw new PctrError('PCTR_VALIDATION', `invalid version metadata: params are not JSON-serializable (${(e as Error).message})`, {
      cause: e,
      details: { field: 'params' },
    });
  }
  return { meta: m as VersionMeta, paramsJson };
}

/** A version reference: a version number or `@alias` (`@latest` included). */
export function checkRef(ref: unknown): { version: number } | { alias: string } {
  if (typeof ref === 'number') return { version: checkVersion(ref) };
  if (typeof ref === 'string' && ref.startsWith('@')) {
    const alias = ref.slice(1);
    return { alias: alias === LATEST ? LATEST : checkAlias(alias) };
  }
  throw new PctrError('PCTR_VALIDATION', `invalid version reference ${JSON.stringify(ref)}: expected a version number or @alias`, {
    details: { field: 'ref' },
  });
}

/**
 * Parse `name`, `name@alias` or `name:version` (as written on the command line and in config).
 * A bare name has no ref.
 */
export function parseModelRef(text: string): { name: string; ref?: VersionRef } {
  const at = text.indexOf('@');
  const colon = text.lastIndexOf(':');
  if (at >= 0) {
    const ref = text.slice(at) as `@${string}`;
    checkRef(ref);
    return { name: checkModelName(text.slice(0, at)), ref };
  }
  if (colon >= 0) {
    const v = text.slice(colon + 1);
    if (!/^\d+$/.test(v)) {
      throw new PctrError('PCTR_VALIDATION', `invalid model reference "${text}": the part after ":" must be a version number`, { details: { field: 'ref' } });
    }
    return { name: checkModelName(text.slice(0, colon)), ref: checkVersion(Number(v)) };
  }
  return { name: checkModelName(text) };
}
