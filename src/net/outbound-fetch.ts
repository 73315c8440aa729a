import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { literalAddress, type OutboundPolicy } from './outbound-policy.js';

/**
 * The one HTTP client for Warden's server-side requests. Every connection, the first and each
 * redirect's, goes through the policy: the URL (scheme, credentials, a literal address) before
 * connecting, and the address the name resolved to when the socket connects (so a name that
 * resolves to something else the second time, DNS rebinding, is still checked on what is used).
 * Answers are read whole, up to a size cap, within one deadline. Every failure, whatever its
 * cause (refused address, DNS, connection, TLS, timeout, size), is the same OutboundError for the
 * caller; its `reason` is for logs only. fetch-compatible, so openid-client takes it as customFetch.
 */

export class OutboundError extends Error {
  constructor(readonly reason: string) {
    super('The request to the remote server failed.');
    this.name = 'OutboundError';
  }
}

export interface OutboundInit {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: unknown;
  signal?: AbortSignal | null;
  redirect?: 'follow' | 'manual' | 'error';
}

export type OutboundFetch = (url: string | URL, init?: OutboundInit) => Promise<Response>;

export interface OutboundOptions {
  /** An extra trusted CA certificate (PEM), besides the system's. */
  ca?: string;
  /** Largest answer body read (bytes). */
  maxBytes?: number;
  /** Deadline for the whole exchange, redirects included (ms). */
  timeoutMs?: number;
  maxRedirects?: number;
}

function encodeBody(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  throw new OutboundError('unsupported request body');
}

function guardedLookup(policy: OutboundPolicy, host: string): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      const refused = addresses.find((a) => !policy.addressAllowed(host, a.address));
      if (refused || addresses.length === 0) return callback(new OutboundError(`address ${refused?.address ?? 'none'} refused by the outbound policy`));
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as unknown as LookupFunction;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

function exchange(
  policy: OutboundPolicy,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  options: Required<Omit<OutboundOptions, 'ca'>> & { ca: string[] | undefined },
  signal: AbortSignal,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (!policy.urlAllowed(url)) return reject(new OutboundError(`${url.protocol}//${url.hostname} refused by the outbound policy`));
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const literal = literalAddress(url.hostname);
    const req = request(
      url,
      {
        method,
        headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        agent: false,
        signal,
        ...(literal ? {} : { lookup: guardedLookup(policy, url.hostname) }),
        ...(options.ca && url.protocol === 'https:' ? { ca: options.ca } : {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) req.destroy(new OutboundError('answer too large'));
          else chunks.push(chunk);
        });
        res.on('error', (err) => reject(err));
        res.on('end', () => {
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (Array.isArray(value)) for (const v of value) out.append(name, v);
            else if (value !== undefined) out.set(name, String(value));
          }
          resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function outboundFetch(policy: OutboundPolicy, options: OutboundOptions = {}): OutboundFetch {
  const settings = {
    maxBytes: options.maxBytes ?? 1024 * 1024,
    timeoutMs: options.timeoutMs ?? 10_000,
    maxRedirects: options.maxRedirects ?? 3,
    ca: options.ca ? [...rootCertificates, options.ca] : undefined,
  };
  return async (input, init = {}) => {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new OutboundError('not a URL');
    }
    let method = (init.method ?? 'GET').toUpperCase();
    let headers: Record<string, string> = Object.fromEntries(new Headers(init.headers ?? {}).entries());
    let body = encodeBody(init.body);
    const deadline = AbortSignal.timeout(settings.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    for (let hop = 0; ; hop++) {
      let answer: Answer;
      try {
        answer = await exchange(policy, url, method, headers, body, settings, signal);
      } catch (err) {
        if (err instanceof OutboundError) throw err;
        if (init.signal?.aborted) throw err;
        const e = err as NodeJS.ErrnoException;
        throw new OutboundError(deadline.aborted ? 'timed out' : `${e.code ?? 'error'}: ${e.message}`);
      }
      const location = answer.headers.get('location');
      if (!REDIRECTS.has(answer.status) || !location || init.redirect === 'manual') {
        if (answer.status < 200 || answer.status > 599) throw new OutboundError(`status ${answer.status}`);
        const empty = answer.status === 204 || answer.status === 205 || answer.status === 304 || method === 'HEAD';
        return new Response(empty ? null : new Uint8Array(answer.body), { status: answer.status, headers: answer.headers });
      }
      if (init.redirect === 'error' || hop >= settings.maxRedirects) throw new OutboundError('too many redirects');
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        const { authorization: _a, cookie: _c, ...rest } = headers;
        headers = rest;
      }
      if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      url = next;
    }
  };
}
