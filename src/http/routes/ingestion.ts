import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { projectToken } from '../../access/route-access.js';
import { findProjectByToken, ingestEvents, invalidToken, missingToken, payloadToken, readCapturePayload } from '../../domain/analytics/ingestion.js';
import type { Deps } from '../deps.js';
import { errorBody, HttpError } from '../errors.js';
import { presentedProjectToken } from '../guard.js';
import { CaptureAccepted } from '../schemas/ingestion.js';
import { readSdkBodies } from '../sdk-body.js';

/** PostHog's capture paths: posthog-node and posthog-python post to /batch/, posthog-js to /e/ and /i/v0/e/. */
export const CAPTURE_PATHS = ['/capture/', '/batch/', '/e/', '/i/v0/e/'] as const;

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
  for (const source of [request.query, request.body]) {
    const value =
      source !== null && typeof source === 'object' && !Array.isArray(source) ? (source as { personal_api_key?: unknown }).personal_api_key : undefined;
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

const noData = () =>
  new HttpError(
    400,
    errorBody('validation_error', 'no_data', 'No data found. Make sure to use a POST request when sending the payload in the body of the request.'),
  );

/**
 * Event ingestion with a project token: /capture/, /batch/, /e/, /i/v0/e/. No user credentials; the
 * token alone decides the project, and any token that names none gets one and the same 401.
 */
export function ingestionRoutes(app: FastifyInstance, { db, config }: Deps): void {
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

  // Its own plugin scope: the SDK body parsing (any content type, gzip, base64, forms) applies to these routes only.
  void app.register(async (scope) => {
    readSdkBodies(scope, config.bodyLimit, noData);
    const api = scope.withTypeProvider<TypeBoxTypeProvider>();
    for (const url of CAPTURE_PATHS) api.post(url, { config: { access: projectToken }, schema: { response: { 200: CaptureAccepted } } }, capture);
  });
}
