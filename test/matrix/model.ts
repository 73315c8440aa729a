/**
 * The authorization matrix's model: principals, cases and the oracle. The expectations are the
 * rules written out here, independent of src/access/decide.ts.
 */
import type { Client } from '../helpers/client.js';

export type UserName = 'O' | 'O2' | 'A' | 'M' | 'N' | 'X' | 'SA' | 'E';

/** How each person relates to organization A (X is another organization's owner). */
export const ROLE: Record<UserName, 'owner' | 'admin' | 'member' | 'outsider'> = {
  O: 'owner',
  O2: 'owner',
  A: 'admin',
  M: 'member',
  N: 'member',
  SA: 'member',
  X: 'outsider',
  E: 'member',
};
/**
 * People who also belong (as Members) to an organization that forbids member keys: a key of theirs
 * is refused wherever that organization's policy counts too (account-wide writes, key management).
 */
export const IN_KEY_FORBIDDING_ORGANIZATION: ReadonlySet<UserName> = new Set(['N']);

/** Explicit members (level 1) of private project P and of every fresh private project. */
export const EXPLICIT_IN_PRIVATE: ReadonlySet<UserName> = new Set(['M', 'SA']);

/** Members of a 2FA-enforcing organization without a second factor, signed in with a password. */
export const WITHOUT_REQUIRED_2FA: ReadonlySet<UserName> = new Set(['E']);
/** What such a session may still reach: reading itself and setting up a second factor. */
export const SECOND_FACTOR_SETUP_ROUTES: ReadonlySet<string> = new Set([
  'GET /api/users/:user_id/',
  'GET /api/users/:user_id/two_factor_status/',
  'POST /api/users/:user_id/start_2fa_setup/',
  'POST /api/users/:user_id/two_factor_validate/',
  'GET /api/users/:user_id/passkeys/',
  'POST /api/users/:user_id/passkeys/register_options/',
  'POST /api/users/:user_id/passkeys/',
]);

export interface KeyFacts {
  scopes: string[];
  scopedTeams?: number[];
  scopedOrganizations?: string[];
  dead?: 'revoked' | 'expired';
  /** The key carries address ranges and is used from outside them (docs/key-networks.md). */
  outsideRanges?: boolean;
}

export interface Principal {
  name: string;
  user: UserName | null;
  client: Client;
  key?: KeyFacts & { id: string };
}

export type Access =
  | { scope: string; action: 'read' | 'write'; alsoAccepts?: string }
  | 'key-management'
  | 'key-self'
  | 'public'
  | 'project-token'
  | 'scim-token';
export type Who = 'anyone' | 'person' | 'member' | 'admin' | 'owner' | 'project-member' | 'project-admin' | 'key-owner';

export interface Req {
  method: string;
  path: string;
  body?: unknown;
  organizationId?: string;
  projectId?: number;
  headers?: Record<string, string>;
  cleanup?: () => Promise<void>;
}

export interface Case {
  route: string;
  access: Access;
  who: Who;
  ok: number;
  request: (p: Principal) => Promise<Req>;
}

export const grants = (scopes: string[], scope: string, action: 'read' | 'write') =>
  scopes.includes('*') || scopes.includes(`${scope}:write`) || (action === 'read' && scopes.includes(`${scope}:read`));

/** The rules, written out: what status should this principal get for this request? */
export function expected(c: Case, p: Principal, req: Req): number {
  if (c.access === 'public' || c.access === 'project-token') return c.ok;
  // SCIM routes take only their domain's SCIM token: no session or personal API key opens them.
  if (c.access === 'scim-token') return 401;
  if (!p.user) return 401;
  // Enforced 2FA confines the session (API keys are not affected).
  if (!p.key && WITHOUT_REQUIRED_2FA.has(p.user) && !SECOND_FACTOR_SETUP_ROUTES.has(c.route)) return 403;
  const key = p.key;
  if (key?.dead) return 401;
  // A key bound to networks is refused from anywhere else, on every route that takes a key.
  if (key?.outsideRanges) return 403;
  if (key) {
    if (c.access === 'key-management' || c.access === 'key-self') {
      if (p.user === 'SA') return 403;
      // Key management takes an unconfined `*` key; the `self` route takes only the key reading itself.
      const unconfinedStar = key.scopes.includes('*') && !key.scopedTeams && !key.scopedOrganizations;
      const readsItself = req.path.includes(`/${key.id}/`);
      if (c.access === 'key-management' ? !unconfinedStar : !readsItself) return 403;
      // Managing keys is account-wide: every organization of the key's user must accept member keys.
      if (IN_KEY_FORBIDDING_ORGANIZATION.has(p.user)) return 403;
    } else {
      const { scope, action, alsoAccepts } = c.access;
      if (!grants(key.scopes, scope, action) && !(alsoAccepts && grants(key.scopes, alsoAccepts, action))) return 403;
      // A key confined to projects works only on routes that act on a project.
      if (key.scopedTeams && req.projectId === undefined) return 403;
      if (req.projectId !== undefined && key.scopedTeams && !key.scopedTeams.includes(req.projectId)) return 403;
      if (req.organizationId !== undefined && key.scopedOrganizations && !key.scopedOrganizations.includes(req.organizationId)) return 403;
      // A write naming no organization changes the account or makes an organization: beyond any
      // organization confinement, and subject to every organization's key policy.
      const accountWide = req.organizationId === undefined && req.projectId === undefined;
      if (accountWide && action === 'write' && (key.scopedOrganizations || IN_KEY_FORBIDDING_ORGANIZATION.has(p.user))) return 403;
    }
  }
  // Nobody (by session or key) makes or widens a key that reaches an organization forbidding member keys.
  const writesKey = c.access === 'key-management' && (req.method === 'POST' || req.method === 'PATCH' || req.method === 'PUT') && !req.path.endsWith('/roll/');
  if (writesKey && IN_KEY_FORBIDDING_ORGANIZATION.has(p.user)) return 403;
  const role = ROLE[p.user];
  if (req.organizationId !== undefined && role === 'outsider') return 404;
  const inPrivate = role === 'owner' || role === 'admin' || EXPLICIT_IN_PRIVATE.has(p.user);
  switch (c.who) {
    case 'anyone':
      return c.ok;
    case 'person':
      return p.user === 'SA' ? 403 : c.ok;
    case 'member':
      return c.ok;
    case 'admin':
      return role === 'owner' || role === 'admin' ? c.ok : 403;
    case 'owner':
      return role === 'owner' ? c.ok : 403;
    case 'project-member':
      return inPrivate ? c.ok : 403;
    case 'project-admin':
      return role === 'owner' || role === 'admin' ? c.ok : 403;
    case 'key-owner':
      // The target is O's `*` key: O reads it; other people do not find it.
      return p.user === 'O' ? c.ok : 404;
  }
}
