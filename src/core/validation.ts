import type { z } from 'zod';
import { PctrError } from './errors.ts';

/** Render a zod issue path as `candidates[3].bid`. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** One line naming every offending field: `bid: expected number, received string; userId: required`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${issuePath(i.path)}: ${i.message}`)
    .join('; ');
}

export function validationError(error: z.ZodError, what: string): PctrError {
  const first = error.issues[0];
  return new PctrError('PCTR_VALIDATION', `invalid ${what}: ${describeIssues(error)}`, {
    details: {
      field: first ? issuePath(first.path) : undefined,
      issues: error.issues.slice(0, 20).map((i) => ({ field: issuePath(i.path), message: i.message })),
    },
  });
}

/** Parse or throw a PctrError naming the field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw validationError(r.error, what);
  return r.data;
}
