import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorKind } from '../domain/errors.js';
import { DatabaseUnavailableError } from '../store/database.js';

/** PostHog's error body (drf-exceptions-hog). */
export interface ErrorBody {
  type: 'validation_error' | 'authentication_error' | 'invalid_request' | 'throttled_error' | 'server_error';
  code: string;
  detail: string;
  attr: string | null;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    /** Sent with the error (e.g. Retry-After on a 429). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(body.detail);
  }
}

const KIND: Record<ErrorKind, { status: number; type: ErrorBody['type'] }> = {
  validation: { status: 400, type: 'validation_error' },
  not_authenticated: { status: 401, type: 'authentication_error' },
  authentication_failed: { status: 401, type: 'authentication_error' },
  permission_denied: { status: 403, type: 'authentication_error' },
  not_found: { status: 404, type: 'invalid_request' },
  conflict: { status: 409, type: 'invalid_request' },
};

export function errorBody(type: ErrorBody['type'], code: string, detail: string, attr: string | null = null): ErrorBody {
  return { type, code, detail, attr };
}

export const notFoundBody = (detail = 'Not found.') => errorBody('invalid_request', 'not_found', detail);

/** Maps an AJV validation error to DRF's message for the field. */
function validationBody(error: FastifyError): ErrorBody {
  const first = error.validation?.[0];
  if (!first) return errorBody('validation_error', 'invalid_input', error.message);
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '__');
  const params = first.params as Record<string, unknown>;
  switch (first.keyword) {
    case 'required': {
      const field = String(params.missingProperty);
      return errorBody('validation_error', 'required', 'This field is required.', path ? `${path}__${field}` : field);
    }
    case 'type': {
      const expected = String(params.type);
      const detail =
        expected === 'string'
          ? 'Not a valid string.'
          : expected === 'integer'
            ? 'A valid integer is required.'
            : expected === 'boolean'
              ? 'Must be a valid boolean.'
              : expected === 'array'
                ? 'Expected a list of items.'
                : expected === 'object'
                  ? 'Invalid data. Expected a dictionary.'
                  : `Expected ${expected}.`;
      return errorBody('validation_error', 'invalid_input', path ? detail : 'Invalid data. Expected a dictionary.', path || null);
    }
    case 'maxLength':
      return errorBody('validation_error', 'max_length', `Ensure this field has no more than ${String(params.limit)} characters.`, path);
    case 'minLength':
      return errorBody('validation_error', 'blank', 'This field may not be blank.', path);
    case 'maxItems':
      return errorBody('validation_error', 'max_length', `Ensure this field has no more than ${String(params.limit)} elements.`, path);
    case 'enum':
      return errorBody('validation_error', 'invalid_choice', 'Not a valid choice.', path);
    case 'minimum':
    case 'maximum':
      return errorBody(
        'validation_error',
        'invalid_input',
        `Ensure this value is ${first.keyword === 'minimum' ? 'greater' : 'less'} than or equal to ${String(params.limit)}.`,
        path,
      );
    case 'format':
      return errorBody('validation_error', 'invalid_input', `Enter a valid ${String(params.format)}.`, path);
    default:
      return errorBody('validation_error', 'invalid_input', first.message ?? 'Invalid input.', path || null);
  }
}

/** Every error leaves through here, in PostHog's shape. Unknown errors are 500 without details. */
export function toErrorResponse(error: unknown, request: FastifyRequest): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) return { status: error.status, body: error.body };
  if (error instanceof DomainError) {
    const { status, type } = KIND[error.kind];
    return { status, body: errorBody(type, error.code, error.message, error.attr) };
  }
  if (error instanceof DatabaseUnavailableError) {
    return { status: 503, body: errorBody('server_error', 'database_unavailable', 'The database is unavailable; try again shortly.') };
  }
  const fe = error as FastifyError;
  if (fe.validation) return { status: 400, body: validationBody(fe) };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: errorBody('invalid_request', 'request_too_large', 'Request body is too large.') };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        body: errorBody('invalid_request', 'unsupported_media_type', `Unsupported media type "${request.headers['content-type'] ?? ''}" in request.`),
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: errorBody('invalid_request', 'parse_error', 'JSON parse error - the request body is empty.') };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: errorBody('invalid_request', 'parse_error', 'JSON parse error - the request body is not valid JSON.') };
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // A path segment that is not valid percent-encoding, or longer than any id: nothing lives there.
      return { status: 404, body: notFoundBody() };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: errorBody('invalid_request', 'parse_error', 'Request body size did not match Content-Length.') };
  }
  if (fe instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
    return { status: 400, body: errorBody('invalid_request', 'parse_error', 'JSON parse error - the request body is not valid JSON.') };
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: errorBody('invalid_request', 'invalid_request', fe.message) };
  }
  return { status: 500, body: errorBody('server_error', 'error', 'A server error occurred.') };
}

export function sendError(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}
