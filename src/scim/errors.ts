/**
 * SCIM's error response (RFC 7644 §3.12): `{schemas, status, scimType?, detail}`, with the status as
 * a string. Every answer under /scim/v2 that is not a success has this shape, whatever produced it
 * (the route, the body parser, the router, the domain): src/http/scim-errors.ts maps them to it.
 */

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12's scimType values Warden uses. */
export type ScimType = 'invalidFilter' | 'invalidSyntax' | 'invalidValue' | 'invalidPath' | 'noTarget' | 'uniqueness' | 'mutability' | 'tooMany';

export interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

export class ScimError extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
    this.name = 'ScimError';
  }
}

export const scimBadRequest = (scimType: ScimType, detail: string) => new ScimError(400, detail, scimType);
export const scimNotFound = (detail = 'Resource not found.') => new ScimError(404, detail);
export const scimConflict = (detail: string) => new ScimError(409, detail, 'uniqueness');

export function scimErrorBody(status: number, detail: string, scimType?: ScimType): ScimErrorBody {
  return { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail };
}

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
