/**
 * Any error thrown while serving a SCIM request, as SCIM's error response (src/scim/errors.ts): the
 * transport's side of SCIM errors, beside the PostHog shape in errors.ts. It lives here because it
 * reads the transport's own errors (HttpError, Fastify's) as well as the domain's and SCIM's.
 */
import type { FastifyError } from 'fastify';
import { DomainError } from '../domain/errors.js';
import { ScimError, type ScimErrorBody, scimErrorBody } from '../scim/errors.js';
import { HttpError } from './errors.js';

/** SCIM's status and body for `error`. Unknown errors are a bare 500. */
export function toScimError(error: unknown): { status: number; body: ScimErrorBody } {
  if (error instanceof ScimError) return { status: error.status, body: scimErrorBody(error.status, error.message, error.scimType) };
  if (error instanceof HttpError) {
    const scimType = error.status === 400 ? (error.body.code === 'parse_error' ? 'invalidSyntax' : 'invalidValue') : undefined;
    return { status: error.status, body: scimErrorBody(error.status, error.body.detail, scimType) };
  }
  if (error instanceof DomainError) {
    const status = { validation: 400, not_authenticated: 401, authentication_failed: 401, permission_denied: 403, not_found: 404, conflict: 409 }[error.kind];
    const scimType = status === 400 ? 'invalidValue' : status === 409 ? 'uniqueness' : undefined;
    return { status, body: scimErrorBody(status, error.message, scimType) };
  }
  const fe = error as FastifyError;
  if (fe?.validation) return { status: 400, body: scimErrorBody(400, 'The request body is not a valid SCIM resource.', 'invalidSyntax') };
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: scimErrorBody(413, 'Request body is too large.', 'tooMany') };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: scimErrorBody(415, 'Send application/scim+json or application/json.') };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: scimErrorBody(400, 'The request body is empty.', 'invalidSyntax') };
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 404, body: scimErrorBody(404, 'Resource not found.') };
  }
  if (fe instanceof SyntaxError || (fe?.statusCode === 400 && /JSON/i.test(fe.message))) {
    return { status: 400, body: scimErrorBody(400, 'The request body is not valid JSON.', 'invalidSyntax') };
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: scimErrorBody(fe.statusCode, fe.message, fe.statusCode === 400 ? 'invalidSyntax' : undefined) };
  }
  return { status: 500, body: scimErrorBody(500, 'A server error occurred.') };
}
