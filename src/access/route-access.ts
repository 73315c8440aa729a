import type { ScopeAction, ScopeObject } from './scopes.js';

/**
 * What a route declares about who may call it. Every route must carry one; the guard enforces it.
 * - public: no credentials needed (health, sign-up, login).
 * - scoped: a signed-in user, or a personal API key holding `scope:action` (or `alsoAccepts:action`:
 *   the events routes take `event:read` or `query:read`). With `project: 'token'`
 *   the project comes from the request's project token (`?token=phc_…`), not from the path.
 * - project_token: no user credentials; the route takes a project's ingestion token (capture,
 *   remote flag evaluation) and reveals nothing about other projects.
 * - key management: a signed-in user; a personal API key only if it holds `*` and is not confined
 *   to some projects or organizations (`keys: 'all-scopes'`), or any key reading itself (`keys: 'self'`).
 * - scim_token: no user credentials; the route authenticates the SCIM bearer token of the domain in
 *   its path itself (src/http/routes/scim.ts), and the guard stays out of it.
 */
export type RouteAccess =
  | { kind: 'public' }
  | { kind: 'scoped'; scope: ScopeObject; action: ScopeAction; project?: 'token'; alsoAccepts?: ScopeObject }
  | { kind: 'key_management'; keys: 'all-scopes' | 'self' }
  | { kind: 'project_token' }
  | { kind: 'scim_token' };

export const publicRoute: RouteAccess = { kind: 'public' };
export const scoped = (scope: ScopeObject, action: ScopeAction, alsoAccepts?: ScopeObject): RouteAccess =>
  alsoAccepts ? { kind: 'scoped', scope, action, alsoAccepts } : { kind: 'scoped', scope, action };
export const projectToken: RouteAccess = { kind: 'project_token' };
export const scimToken: RouteAccess = { kind: 'scim_token' };

export function describeAccess(access: RouteAccess): string {
  switch (access.kind) {
    case 'public':
      return 'No credentials required.';
    case 'scoped':
      return `Requires scope \`${access.scope}:${access.action}\`${access.alsoAccepts ? ` or \`${access.alsoAccepts}:${access.action}\`` : ''} for personal API keys.`;
    case 'project_token':
      return "A project's token (phc_...); no user credentials.";
    case 'scim_token':
      return "The SCIM bearer token of the domain in the path; no user credentials.";
    case 'key_management':
      return access.keys === 'self'
        ? 'Signed-in users; a personal API key may read itself.'
        : 'Signed-in users, or a personal API key with scope `*`.';
  }
}
