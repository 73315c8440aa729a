/**
 * The console's only way to the server: Warden's public API, same origin, the session cookie, and
 * the CSRF token (the readable `posthog_csrftoken` cookie) sent back in `X-CSRFToken` on writes.
 * Errors keep the API's own `detail` and `attr`.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly attr: string | null,
  ) {
    super(detail);
  }
}

function csrfToken(): string | null {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === 'posthog_csrftoken') return decodeURIComponent(value.join('='));
  }
  return null;
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') {
    const token = csrfToken();
    if (token) headers['x-csrftoken'] = token;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, 'network_error', 'Warden could not be reached. Check your connection and try again.', null);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { code?: unknown; detail?: unknown; attr?: unknown };
    throw new ApiError(
      res.status,
      typeof e.code === 'string' ? e.code : 'error',
      typeof e.detail === 'string' ? e.detail : `The request failed (${res.status}).`,
      typeof e.attr === 'string' ? e.attr : null,
    );
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = (path: string) => api<void>('DELETE', path);

export interface Page<T> {
  count?: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** Every result of a paginated list, following `next` (bounded: the console shows at most 2,000). */
export async function all<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let url: string | null = `${path}${path.includes('?') ? '&' : '?'}limit=200`;
  for (let pages = 0; url && pages < 10; pages++) {
    const page: Page<T> = await get<Page<T>>(url);
    out.push(...page.results);
    url = page.next ? new URL(page.next, location.origin).pathname + new URL(page.next, location.origin).search : null;
  }
  return out;
}
