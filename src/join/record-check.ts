/**
 * Full validation of input records against the core schemas, for `--validate` (producers the join
 * cannot trust). The fast path only reads `type` and `ts`; the gateway and the simulator validate
 * impressions with the same schemas before they append.
 */
import { Click, Impression, describeIssues } from '../core/index.ts';

/** Why the record is not a valid event of this schema, keyed by its impressionId; null when it is. */
function check(key: string, value: string, schema: typeof Impression | typeof Click): string | null {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  const r = schema.safeParse(json);
  if (!r.success) return describeIssues(r.error);
  if (r.data.impressionId !== key) return `key ${JSON.stringify(key)} is not its impressionId ${JSON.stringify(r.data.impressionId)}`;
  return null;
}

/** Why an impression record (key, JSON text) is invalid, or null. */
export function checkImpression(key: string, value: string): string | null {
  return check(key, value, Impression);
}

export function checkClick(key: string, value: string): string | null {
  return check(key, value, Click);
}
