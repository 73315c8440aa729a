import { gunzip } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorBody, HttpError } from './errors.js';

/**
 * The bodies PostHog's SDKs send to the capture and flags routes, read the way PostHog's capture and
 * flags services read them: JSON under any content type (posthog-js sends gzip as `text/plain`),
 * gzip (`Content-Encoding: gzip`, `?compression=gzip-js`, or gzip's magic bytes), base64
 * (`?compression=base64`), and the form encoding `data=<base64 or JSON>` (posthog-js's fallback
 * and its `sendBeacon` transport). Bounded: the raw body by the server's body limit, the
 * decompressed one by DECOMPRESSED_FACTOR times that.
 */

/** How much larger than the request body limit a body may grow once decompressed. */
const DECOMPRESSED_FACTOR = 10;

export const malformedPayload = (detail: string) => new HttpError(400, errorBody('validation_error', 'invalid_payload', `Malformed request data: ${detail}`));

function gunzipLimited(raw: Buffer, maxOutputLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(raw, { maxOutputLength }, (error, result) => {
      if (!error) return resolve(result);
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return reject(new HttpError(413, errorBody('invalid_request', 'request_too_large', 'Request body is too large once decompressed.')));
      }
      reject(malformedPayload('Failed to decompress data (truncated or not gzip).'));
    });
  });
}

function fromBase64(text: string): string {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) throw malformedPayload('Invalid base64 data.');
  return Buffer.from(compact, 'base64').toString('utf8');
}

/** `data` of a form-encoded body: base64 (when the form or the query says so, or it is not JSON) or JSON text. */
function formData(text: string, compression: string | undefined, noData: () => Error): string {
  const form = new URLSearchParams(text);
  const data = form.get('data');
  if (data === null || data === '') throw noData();
  const base64 = form.get('compression') === 'base64' || compression === 'base64' || !/^\s*[[{]/.test(data);
  return base64 ? fromBase64(data) : data;
}

export async function decodeSdkBody(request: FastifyRequest, raw: Buffer, maxDecoded: number, noData: () => Error): Promise<unknown> {
  if (raw.length === 0) return undefined;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const compression = typeof query.compression === 'string' ? query.compression.toLowerCase() : undefined;
  const encoding = String(request.headers['content-encoding'] ?? '')
    .toLowerCase()
    .trim();
  if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new HttpError(415, errorBody('invalid_request', 'unsupported_media_type', `Unsupported content encoding "${encoding.slice(0, 40)}".`));
  }
  if (compression === 'lz64') throw malformedPayload('lz64 compression is not supported; send gzip or plain JSON.');
  const gzipped = encoding === 'gzip' || encoding === 'x-gzip' || compression === 'gzip' || compression === 'gzip-js' || (raw[0] === 0x1f && raw[1] === 0x8b);
  const bytes = gzipped ? await gunzipLimited(raw, maxDecoded) : raw;
  let text = bytes.toString('utf8');
  const contentType = String(request.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/x-www-form-urlencoded')) text = formData(text, compression, noData);
  else if (compression === 'base64') text = fromBase64(text);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformedPayload('Invalid JSON.');
  }
}

/**
 * Makes a plugin scope read every body as an SDK body (above), whatever its content type. Call it
 * on a scope of its own (`app.register(async (scope) => …)`): the rest of the API keeps taking JSON only.
 */
export function readSdkBodies(scope: FastifyInstance, bodyLimit: number, noData: () => Error): void {
  const maxDecoded = bodyLimit * DECOMPRESSED_FACTOR;
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    decodeSdkBody(request, body as Buffer, maxDecoded, noData).then(
      (value) => done(null, value),
      (error: Error) => done(error),
    );
  });
}
