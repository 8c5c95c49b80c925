/**
 * The dashboard's client of the gateway: JSON GETs and POSTs with the API key the user entered (kept
 * in sessionStorage, so it dies with the tab), and errors that carry the gateway's catalog code and
 * message so a view can show exactly what was refused and why.
 */
const KEY_STORAGE = 'pctr.apiKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The key is missing or unknown: the user must enter one. */
  get needsKey(): boolean {
    return this.status === 401;
  }
}

export function storedKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export function storeKey(key: string): void {
  if (key === '') sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

/** Base URL of the gateway: the dashboard is served by it at /dashboard/. */
function url(path: string): string {
  return new URL(path, window.location.origin).toString();
}

async function request<T>(method: 'GET' | 'POST', path: string, body: unknown, key: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key !== '') headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the gateway did not answer ${method} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'BAD_JSON', `${method} ${path} answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const err = (json ?? {}) as { code?: string; message?: string };
    throw new ApiError(res.status, err.code ?? `HTTP_${res.status}`, err.message ?? `${method} ${path} answered ${res.status}`);
  }
  return json as T;
}

/** GET a JSON endpoint with the session's key. */
export function apiGet<T>(path: string): Promise<T> {
  return request<T>('GET', path, undefined, storedKey());
}

/** POST JSON; `key` overrides the session's key (admin actions ask for theirs). */
export function apiPost<T>(path: string, body: unknown, key = storedKey()): Promise<T> {
  return request<T>('POST', path, body, key);
}
