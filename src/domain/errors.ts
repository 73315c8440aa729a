/**
 * Errors the domain raises. The HTTP layer turns each into PostHog's shape
 * `{type, code, detail, attr}` with the matching status; nothing below http knows about statuses.
 */
export type ErrorKind =
  | 'validation' // 400 validation_error
  | 'not_authenticated' // 401
  | 'authentication_failed' // 401
  | 'permission_denied' // 403
  | 'not_found' // 404
  | 'conflict'; // 409 (rare: PostHog mostly uses validation errors)

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly code: string,
    readonly attr: string | null = null,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const validation = (detail: string, attr: string | null = null, code = 'invalid_input') => new DomainError('validation', detail, code, attr);
export const permissionDenied = (detail: string) => new DomainError('permission_denied', detail, 'permission_denied');
export const notFound = (detail = 'Not found.') => new DomainError('not_found', detail, 'not_found');
export const notAuthenticated = (detail = 'Authentication credentials were not provided.') => new DomainError('not_authenticated', detail, 'not_authenticated');
export const authenticationFailed = (detail: string) => new DomainError('authentication_failed', detail, 'authentication_failed');
