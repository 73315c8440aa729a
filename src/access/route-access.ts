import type { AccessControlResource } from './resources.js';
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
 *
 * A scoped route under a project may also declare the resource it `serves` (the object gate,
 * src/access/access-control.ts): the guard then checks the caller's access to the resource type
 * and, when `object` names the path parameter of the object, to that object, before the handler.
 */
export interface Serves {
  resource: AccessControlResource;
  /** The path parameter naming the object the route reads or changes. */
  object?: string;
}

export type RouteAccess =
  | { kind: 'public' }
  | {
      kind: 'scoped';
      scope: ScopeObject;
      action: ScopeAction;
      project?: 'token';
      alsoAccepts?: ScopeObject;
      serves?: Serves;
      /** Members of the project's organization refused the project itself may still call it (to ask for access). */
      refusedMayAsk?: true;
    }
  | { kind: 'key_management'; keys: 'all-scopes' | 'self' }
  | { kind: 'project_token' }
  | { kind: 'scim_token' };

export const publicRoute: RouteAccess = { kind: 'public' };
export const scoped = (scope: ScopeObject, action: ScopeAction, alsoAccepts?: ScopeObject): RouteAccess =>
  alsoAccepts ? { kind: 'scoped', scope, action, alsoAccepts } : { kind: 'scoped', scope, action };
/** A scoped route that serves a resource under access control (and, with `object`, one object of it). */
export const serving = (scope: ScopeObject, action: ScopeAction, serves: Serves, alsoAccepts?: ScopeObject): RouteAccess =>
  alsoAccepts ? { kind: 'scoped', scope, action, alsoAccepts, serves } : { kind: 'scoped', scope, action, serves };
/** Does this route create an object (a write with no object named)? Creation needs access to the resource type itself. */
export const createsObject = (access: { action: ScopeAction; serves?: Serves }): boolean => access.action === 'write' && access.serves?.object === undefined;
/** A scoped project route open to every member of the project's organization, with or without access to the project (access requests). */
export const askable = (scope: ScopeObject, action: ScopeAction): RouteAccess => ({ kind: 'scoped', scope, action, refusedMayAsk: true });
export const projectToken: RouteAccess = { kind: 'project_token' };
export const scimToken: RouteAccess = { kind: 'scim_token' };

export function describeAccess(access: RouteAccess): string {
  switch (access.kind) {
    case 'public':
      return 'No credentials required.';
    case 'scoped':
      return `Requires scope \`${access.scope}:${access.action}\`${access.alsoAccepts ? ` or \`${access.alsoAccepts}:${access.action}\`` : ''} for personal API keys.${
        access.serves
          ? ` Needs ${access.action === 'read' ? 'viewer' : 'editor'} access to ${access.serves.resource}${access.serves.object ? ' (the object)' : ''}.`
          : ''
      }${access.refusedMayAsk ? " Open to every member of the project's organization, with or without access to the project." : ''}`;
    case 'project_token':
      return "A project's token (phc_...); no user credentials.";
    case 'scim_token':
      return 'The SCIM bearer token of the domain in the path; no user credentials.';
    case 'key_management':
      return access.keys === 'self' ? 'Signed-in users; a personal API key may read itself.' : 'Signed-in users, or a personal API key with scope `*`.';
  }
}
