import { gunzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { projectToken } from '../../access/route-access.js';
import { findProjectByToken, ingestEvents, invalidToken, missingToken, payloadToken, readCapturePayload } from '../../domain/ingestion.js';
import type { Deps } from '../deps.js';
import { errorBody, HttpError } from '../errors.js';
import { presentedProjectToken } from '../guard.js';

/** PostHog's capture paths: posthog-node and posthog-python post to /batch/, posthog-js to /e/ and /i/v0/e/. */
export const CAPTURE_PATHS = ['/capture/', '/batch/', '/e/', '/i/v0/e/'] as const;

/** How much larger than the request body limit a body may grow once decompressed. */
const DECOMPRESSED_FACTOR = 10;

/**
 * A credential sent instead of a project token (`Authorization: Bearer …`, as PostHog's newer capture
 * takes the token, or a `personal_api_key`): it is judged as a token, so a personal API key is simply
 * a token that names no project.
 */
function credentialToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  for (const source of [request.query, request.body] as Array<Record<string, unknown> | undefined>) {
    const value = source && typeof source === 'object' && !Array.isArray(source) ? source.personal_api_key : undefined;
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

const malformed = (detail: string) => new HttpError(400, errorBody('validation_error', 'invalid_payload', `Malformed request data: ${detail}`));
const noData = () =>
  new HttpError(
    400,
    errorBody('validation_error', 'no_data', 'No data found. Make sure to use a POST request when sending the payload in the body of the request.'),
  );

function gunzipLimited(raw: Buffer, maxOutputLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(raw, { maxOutputLength }, (error, result) => {
      if (!error) return resolve(result);
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return reject(new HttpError(413, errorBody('invalid_request', 'request_too_large', 'Request body is too large once decompressed.')));
      }
      reject(malformed('Failed to decompress data (truncated or not gzip).'));
    });
  });
}

function fromBase64(text: string): string {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) throw malformed('Invalid base64 data.');
  return Buffer.from(compact, 'base64').toString('utf8');
}

/**
 * Reads a capture body whatever way the SDKs send it: JSON (any content type, posthog-js says
 * text/plain), gzip (`Content-Encoding: gzip`, `?compression=gzip-js`, or gzip's magic bytes), and
 * the older form encoding `data=<base64 or JSON>`. Bounded: the raw body by the server's body limit,
 * the decompressed one by DECOMPRESSED_FACTOR times that.
 */
async function decodeCaptureBody(request: FastifyRequest, raw: Buffer, maxDecoded: number): Promise<unknown> {
  if (raw.length === 0) return undefined;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const compression = typeof query.compression === 'string' ? query.compression.toLowerCase() : undefined;
  const encoding = String(request.headers['content-encoding'] ?? '').toLowerCase().trim();
  if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new HttpError(415, errorBody('invalid_request', 'unsupported_media_type', `Unsupported content encoding "${encoding.slice(0, 40)}".`));
  }
  if (compression === 'lz64') throw malformed('lz64 compression is not supported; send gzip or plain JSON.');
  const gzipped = encoding === 'gzip' || encoding === 'x-gzip' || compression === 'gzip' || compression === 'gzip-js' || (raw[0] === 0x1f && raw[1] === 0x8b);
  const bytes = gzipped ? await gunzipLimited(raw, maxDecoded) : raw;
  let text = bytes.toString('utf8');
  const contentType = String(request.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(text);
    const data = form.get('data');
    if (data === null || data === '') throw noData();
    text = form.get('compression') === 'base64' || !/^\s*[[{]/.test(data) ? fromBase64(data) : data;
  } else if (compression === 'base64') {
    text = fromBase64(text);
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed('Invalid JSON.');
  }
}

/**
 * Event ingestion with a project token: /capture/, /batch/, /e/, /i/v0/e/. No user credentials; the
 * token alone decides the project, and any token that names none gets one and the same 401.
 */
export function ingestionRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const maxDecoded = config.bodyLimit * DECOMPRESSED_FACTOR;

  const capture = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.body === undefined || request.body === null) throw noData();
    const token = presentedProjectToken(request) ?? payloadToken(request.body) ?? credentialToken(request);
    if (token === undefined) throw missingToken();
    const project = await findProjectByToken(db, token);
    if (!project) throw invalidToken();
    const events = readCapturePayload(request.body);
    await db.transaction((tx) => ingestEvents(tx, project.id, events));
    return reply.code(200).send({ status: 1 });
  };

  // Its own plugin scope: the capture body parsing (any content type, gzip) applies to these routes only.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
      decodeCaptureBody(request, body as Buffer, maxDecoded).then(
        (value) => done(null, value),
        (error: Error) => done(error),
      );
    });
    for (const url of CAPTURE_PATHS) scope.post(url, { config: { access: projectToken } }, capture);
  });
}
