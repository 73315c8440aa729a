/**
 * A minimal browser for the SSO tests: real HTTP(S) requests, a cookie jar per origin with paths,
 * redirects followed one hop at a time. It trusts the test CA for https.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Page {
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  location: URL | null;
  json<T = any>(): T;
}

interface Cookie {
  value: string;
  path: string;
}

const ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

export class Browser {
  private jar = new Map<string, Map<string, Cookie>>();

  constructor(private readonly ca: string) {}

  cookie(origin: string, name: string): string | undefined {
    return this.jar.get(new URL(origin).origin)?.get(name)?.value;
  }

  private cookieHeader(url: URL): string | undefined {
    const cookies = this.jar.get(url.origin);
    if (!cookies) return undefined;
    const pairs = [...cookies].filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    return pairs.length ? pairs.map(([name, c]) => `${name}=${c.value}`).join('; ') : undefined;
  }

  private store(url: URL, setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) || '/';
      const expired = attrs.some((a) => /^max-age=(0|-)/i.test(a) || /^expires=.*1970/i.test(a));
      const cookies = this.jar.get(url.origin) ?? new Map<string, Cookie>();
      this.jar.set(url.origin, cookies);
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, { value, path });
    }
  }

  request(method: string, target: string | URL, options: { form?: Record<string, string>; accept?: string } = {}): Promise<Page> {
    const url = new URL(target);
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    const headers: Record<string, string> = { accept: options.accept ?? ACCEPT };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Page>((resolve, reject) => {
      const req = send(url, { method, headers, ...(url.protocol === 'https:' ? { ca: this.ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          this.store(url, res.headers['set-cookie']);
          const text = Buffer.concat(chunks).toString('utf8');
          const location = res.headers.location ? new URL(res.headers.location, url) : null;
          resolve({ url, status: res.statusCode ?? 0, headers: res.headers, body: text, location, json: () => JSON.parse(text) });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  get = (url: string | URL, accept?: string) => this.request('GET', url, accept ? { accept } : {});

  /**
   * Follows redirects from `url` until a response is not a redirect, or until the next hop would be
   * a URL `stopAt` accepts: then that URL is returned unrequested (so a test can inspect or tamper).
   */
  async follow(url: string | URL, stopAt?: (next: URL) => boolean): Promise<{ page: Page | null; next: URL | null; trail: URL[] }> {
    const trail: URL[] = [];
    let current = new URL(url);
    for (let hop = 0; hop < 20; hop++) {
      if (stopAt?.(current)) return { page: null, next: current, trail };
      trail.push(current);
      const page = await this.get(current);
      if (page.status < 300 || page.status >= 400 || !page.location) return { page, next: null, trail };
      current = page.location;
    }
    throw new Error(`too many redirects: ${trail.map(String).join(' -> ')}`);
  }
}
