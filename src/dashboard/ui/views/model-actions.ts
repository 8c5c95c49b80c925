/**
 * Promote and roll back from the Models page. Each action asks for an admin key in a dialog (the
 * session's key is usually a client key), calls the gateway's admin routes, and reports the
 * outcome in the page's status line: what moved and what the gateway now serves, or exactly why
 * the gateway refused (401 without a key, 403 with a client key, 409 for a version that fails to load).
 */
import { ApiError, apiPost } from '../api.ts';
import { promptKey } from '../dialog.ts';
import { h } from '../dom.ts';

interface AliasMove {
  readonly alias: string;
  readonly action: string;
  readonly fromVersion?: number;
  readonly toVersion?: number;
  readonly serving?: { readonly version: string; readonly loadError?: string };
}

export type ActionOutcome = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly text: string };

function describe(move: AliasMove): string {
  const from = move.fromVersion === undefined ? 'none' : `v${move.fromVersion}`;
  const to = move.toVersion === undefined ? 'none' : `v${move.toVersion}`;
  const verb = move.action === 'rollback' ? 'rolled back' : 'moved';
  const serving = move.serving ? (move.serving.loadError ? ` — this gateway could not load it: ${move.serving.loadError}` : `; this gateway now serves ${move.serving.version}`) : '';
  return `${move.alias} ${verb}: ${from} → ${to}${serving}`;
}

function refusal(e: unknown): string {
  if (e instanceof ApiError) {
    const why = e.status === 401 ? 'an admin key is required' : e.status === 403 ? 'this key is not an admin key' : 'the gateway refused';
    return `Refused (${e.status} ${e.code}): ${why} — ${e.message}`;
  }
  return `Failed: ${e instanceof Error ? e.message : String(e)}`;
}

/** Ask for an admin key and promote `version` of `model` to the alias picked in the dialog. */
export async function promote(model: string, version: number, current: { champion: number | null; challenger: number | null }): Promise<ActionOutcome | null> {
  const select = h(
    'select',
    { id: 'promote-alias' },
    h('option', { value: 'champion' }, `champion${current.champion === null ? '' : ` (now v${current.champion})`}`),
    h('option', { value: 'challenger' }, `challenger${current.challenger === null ? '' : ` (now v${current.challenger})`}`),
  );
  const key = await promptKey({
    id: 'admin-key',
    title: `Promote ${model} v${version}`,
    message: 'The gateway loads and smoke-tests the version before it moves the alias. This needs an admin key.',
    confirm: 'Promote',
    placeholder: 'admin key',
    extra: h('label', null, 'Alias', select),
  });
  if (key === null) return null;
  try {
    const move = await apiPost<AliasMove>(`/v1/admin/models/${encodeURIComponent(model)}/promote`, { version, alias: select.value }, key);
    return { ok: true, text: describe(move) };
  } catch (e) {
    return { ok: false, text: refusal(e) };
  }
}

/** Ask for an admin key and move `alias` of `model` back to its previous version. */
export async function rollback(model: string, alias: 'champion' | 'challenger', current: number | null): Promise<ActionOutcome | null> {
  const key = await promptKey({
    id: 'admin-key',
    title: `Roll back ${model} ${alias}`,
    message: `Moves ${alias}${current === null ? '' : ` (now v${current})`} back to the version it pointed at before. This needs an admin key.`,
    confirm: 'Roll back',
    placeholder: 'admin key',
  });
  if (key === null) return null;
  try {
    const move = await apiPost<AliasMove>(`/v1/admin/models/${encodeURIComponent(model)}/rollback`, { alias }, key);
    return { ok: true, text: describe(move) };
  } catch (e) {
    return { ok: false, text: refusal(e) };
  }
}
