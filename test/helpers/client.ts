/** A small HTTP client for the API tests: a session (cookies + CSRF), a personal API key, or nobody. */
export interface Response<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class Client {
  private cookies = new Map<string, string>();
  constructor(
    readonly baseUrl: string,
    private auth: { key?: string } = {},
  ) {}

  /** A client that authenticates with `Authorization: Bearer <key>`. */
  withKey(key: string): Client {
    return new Client(this.baseUrl, { key });
  }

  anonymous(): Client {
    return new Client(this.baseUrl);
  }

  get csrfToken(): string | undefined {
    return this.cookies.get('posthog_csrftoken');
  }

  /** A cookie this client holds (to replay it elsewhere, e.g. the session on another node). */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    options: { headers?: Record<string, string>; raw?: string | Buffer; csrf?: boolean; storeCookies?: boolean } = {},
  ): Promise<Response<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.auth.key) headers.authorization = `Bearer ${this.auth.key}`;
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (options.csrf !== false && this.csrfToken && method !== 'GET') headers['x-csrftoken'] = this.csrfToken;
    let payload: string | Buffer | undefined = options.raw;
    if (body !== undefined && payload === undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const sent = typeof payload === 'string' || payload === undefined ? payload : new Uint8Array(payload);
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, body: sent });
    for (const c of options.storeCookies === false ? [] : res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* keep the text */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get = <T = any>(path: string) => this.request<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.request<T>('POST', path, body ?? {});
  patch = <T = any>(path: string, body?: unknown) => this.request<T>('PATCH', path, body ?? {});
  put = <T = any>(path: string, body?: unknown) => this.request<T>('PUT', path, body ?? {});
  delete = <T = any>(path: string) => this.request<T>('DELETE', path);
}
