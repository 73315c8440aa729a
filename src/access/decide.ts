import { keyAddressRefusal, type KeyNetworks } from './key-networks.js';
import { policyAllowsUse, policyDeadline, rangesRefusal, type KeyPolicy } from './key-policy.js';
import { OrganizationLevel } from './levels.js';
import { keyExpiredByPolicyMessage, keysDisallowedMessage } from './messages.js';
import type { RouteAccess } from './route-access.js';
import { ALL_SCOPES, scopesGrant, type ScopeAction, type ScopeObject } from './scopes.js';

export type Principal =
  | { kind: 'user'; userId: number }
  | {
      kind: 'personal_api_key';
      userId: number;
      keyId: string;
      scopes: readonly string[];
      scopedTeams: readonly number[] | null;
      scopedOrganizations: readonly string[] | null;
      createdAt: Date;
      /** Keys of service accounts are managed by organization admins, never by the account itself. */
      isServiceAccount: boolean;
      /** The address ranges the key may be used from (compiled, cached with the key); null/absent = anywhere. */
      networks?: KeyNetworks | null;
      /** Requests per minute the key may make (the guard counts them); null/absent = no limit. */
      rateLimitPerMinute?: number | null;
    };

export interface OrganizationFacts {
  id: string;
  name: string;
  /** The principal's membership level; null when not a member. */
  level: number | null;
  membersCanUsePersonalApiKeys: boolean;
  keyPolicy: KeyPolicy;
}

export interface ProjectFacts {
  id: number;
  organizationId: string;
  /** null = no access to this project. */
  effectiveLevel: number | null;
}

export interface DecisionInput {
  principal: Principal | null;
  access: RouteAccess;
  /** The organization the request concerns (from the route, or the project's), if any. */
  organization?: OrganizationFacts | 'missing';
  project?: ProjectFacts | 'missing';
  /** The key being read through a `self` key-management route. */
  targetKeyId?: string;
  /**
   * Every organization of the key's user, for a key on a route that names no organization or
   * project (the account, the lists): their policies and the key's confinement decide there.
   */
  accountOrganizations?: readonly OrganizationFacts[];
  /** The client's address as the proxy settings define it (src/http/rate-limits.ts clientAddress). */
  clientAddress?: string;
  now: Date;
}

export type Denial = { allow: false; status: 401 | 403 | 404; code: string; detail: string; reason: string };
/**
 * An allowed request. `keyOrganizations`: on a route that names no organization or project, the
 * organizations a personal API key may reach there (the lists show only these).
 */
export type Decision = { allow: true; reason: string; keyOrganizations?: readonly string[] } | Denial;

const deny = (status: Denial['status'], code: string, detail: string, reason = detail): Denial => ({
  allow: false,
  status,
  code,
  detail,
  reason,
});

export const NO_KEY_ACCESS = 'This action does not support Personal API Key access';
export const SERVICE_ACCOUNT_KEY_MANAGEMENT = "A service account's keys are managed by its organization's admins.";
export const PROJECT_CONFINED_KEY = 'API keys with scoped projects are only supported on project-based views.';
/** The reason of a key's refusal for its address: the guard records it as its own security event. */
export const OUTSIDE_RANGES_REASON = 'key used from outside its address ranges';
/** The reason of a key without ranges refused by an organization that requires them. */
export const RANGES_REQUIRED_REASON = 'organization requires key address ranges';
export const ORGANIZATION_CONFINED_KEY = 'API keys with scoped organizations are only supported on views of those organizations.';

/**
 * May this principal make this request? Pure: every fact comes in, a decision with a readable
 * reason goes out. The order of checks follows PostHog: authentication, the key's scopes, the key's
 * project/organization scoping, the organization's key policy, then membership and project access.
 */
export function decide(input: DecisionInput): Decision {
  const { principal, access, organization, project } = input;
  if (access.kind === 'public' || access.kind === 'project_token') return { allow: true, reason: `${access.kind} route` };
  if (!principal) return deny(401, 'not_authenticated', 'Authentication credentials were not provided.', 'no credentials');

  let keyOrganizations: readonly string[] | undefined;
  if (principal.kind === 'personal_api_key') {
    // A key bound to networks is refused from anywhere else, whatever the route (before its scopes).
    const outside = keyAddressRefusal(principal.networks, input.clientAddress);
    if (outside) return deny(403, 'permission_denied', outside, OUTSIDE_RANGES_REASON);
    const keyDecision = keyDecisionFor(principal, input);
    if (keyDecision && 'allow' in keyDecision) return keyDecision;
    keyOrganizations = keyDecision?.keyOrganizations;
  }

  if (organization === 'missing') return deny(404, 'not_found', 'Organization not found.');
  if (project === 'missing') return deny(404, 'not_found', 'Project not found.');
  if (organization && organization.level === null) {
    return deny(404, 'not_found', project ? 'Project not found.' : 'Organization not found.', 'not a member of the organization');
  }
  // A route where someone refused a project asks for access to it: organization membership suffices.
  const mayAsk = access.kind === 'scoped' && access.refusedMayAsk === true;
  if (project && project.effectiveLevel === null && !mayAsk) {
    return deny(403, 'permission_denied', "You don't have access to the project.", 'private project without membership');
  }
  const reason = describeGrant(principal, access, organization, project);
  return keyOrganizations ? { allow: true, reason, keyOrganizations } : { allow: true, reason };
}

type KeyPrincipal = Extract<Principal, { kind: 'personal_api_key' }>;

/** A key's denial, or (on a route naming no organization or project) the organizations it reaches there. */
function keyDecisionFor(key: KeyPrincipal, input: DecisionInput): Denial | { keyOrganizations: readonly string[] } | null {
  const { access, organization, project } = input;
  if (access.kind === 'key_management') {
    const denial = keyManagementDenial(key, input);
    if (denial) return denial;
    // Managing keys is an account-wide act: every organization of the user must accept member keys.
    return accountKeyDecision(key, input, 'every');
  }
  if (access.kind !== 'scoped') return null;
  const granted =
    scopesGrant(key.scopes, access.scope, access.action) || (access.alsoAccepts !== undefined && scopesGrant(key.scopes, access.alsoAccepts, access.action));
  if (!granted) {
    const needed = `${access.scope}:${access.action}`;
    return deny(403, 'permission_denied', `API key missing required scope '${needed}'`, `key lacks ${needed}`);
  }
  if (key.scopedTeams && project === undefined) {
    return deny(403, 'permission_denied', PROJECT_CONFINED_KEY, 'project-confined key on a route without a project');
  }
  if (project && project !== 'missing' && key.scopedTeams && !key.scopedTeams.includes(project.id)) {
    return deny(403, 'permission_denied', `API key does not have access to the requested project: ID ${project.id}.`, 'key scoped to other projects');
  }
  if (organization === undefined && project === undefined) {
    // Writes that name no organization change the account (every organization's) or make a new one.
    return accountKeyDecision(key, input, access.action === 'write' ? 'every' : 'some');
  }
  if (!organization || organization === 'missing') return null;
  return organizationKeyDenial(key, organization, project === 'missing' ? undefined : project, access.scope, access.action, input.now);
}

function keyManagementDenial(key: KeyPrincipal, input: DecisionInput): Denial | null {
  const access = input.access as Extract<RouteAccess, { kind: 'key_management' }>;
  if (key.isServiceAccount) {
    return deny(403, 'permission_denied', SERVICE_ACCOUNT_KEY_MANAGEMENT, 'service account keys are managed by admins');
  }
  if (access.keys === 'self' && (input.targetKeyId === undefined || input.targetKeyId === key.keyId)) return null;
  // Only an unconfined `*` key manages keys: a key confined to some projects or organizations
  // could otherwise mint one without those limits.
  if (access.keys === 'all-scopes' && key.scopes.includes(ALL_SCOPES) && !key.scopedTeams && !key.scopedOrganizations) {
    return null;
  }
  return deny(403, 'permission_denied', NO_KEY_ACCESS, 'key management needs a session or an unconfined `*` key');
}

/**
 * A key on a route that names no organization or project answers to every organization of its
 * user. 'some' (reads): it reaches the organizations within its confinement whose policy accepts
 * it, and is refused only when a policy refuses it in all of them. 'every' (account-wide writes,
 * key management): each organization's policy must accept it, and an organization-confined key is
 * refused outright (the account and a new organization are outside every confinement).
 */
function accountKeyDecision(key: KeyPrincipal, input: DecisionInput, mode: 'some' | 'every'): Denial | { keyOrganizations: readonly string[] } {
  const organizations = input.accountOrganizations ?? [];
  const access = input.access;
  const [scope, action] = access.kind === 'scoped' ? [access.scope, access.action] : [null, null];
  if (mode === 'every' && key.scopedOrganizations && access.kind === 'scoped') {
    return deny(403, 'permission_denied', ORGANIZATION_CONFINED_KEY, 'organization-confined key on an account-wide write');
  }
  const within = organizations.filter((o) => !key.scopedOrganizations || key.scopedOrganizations.includes(o.id));
  const denials = within.map((o) => organizationKeyDenial(key, o, undefined, scope, action, input.now));
  const refused = denials.find((d): d is Denial => d !== null);
  const reached = within.filter((_, i) => denials[i] === null).map((o) => o.id);
  if (refused && (mode === 'every' || reached.length === 0)) return refused;
  return { keyOrganizations: reached };
}

/** The key's confinement to organizations and the organization's key policy. `scope` null: no scope to check (key management). */
function organizationKeyDenial(
  key: KeyPrincipal,
  organization: OrganizationFacts,
  project: ProjectFacts | undefined,
  scope: ScopeObject | null,
  action: ScopeAction | null,
  now: Date,
): Denial | null {
  if (key.scopedOrganizations && !key.scopedOrganizations.includes(organization.id)) {
    const what = project ? `project: ID ${project.id}` : `organization: ID ${organization.id}`;
    return deny(403, 'permission_denied', `API key does not have access to the requested ${what}.`, 'key scoped to other organizations');
  }
  if (organization.level === null) return null;
  if (!organization.membersCanUsePersonalApiKeys && organization.level < OrganizationLevel.ADMIN) {
    return deny(403, 'permission_denied', keysDisallowedMessage(organization.name), 'organization forbids member keys');
  }
  const withoutRanges = rangesRefusal(organization.keyPolicy, Boolean(key.networks));
  if (withoutRanges) return deny(403, 'permission_denied', withoutRanges, RANGES_REQUIRED_REASON);
  const deadline = policyDeadline(organization.keyPolicy, key.createdAt);
  if (deadline !== null && deadline.getTime() <= now.getTime()) {
    return deny(
      401,
      'authentication_failed',
      keyExpiredByPolicyMessage(organization.name, organization.keyPolicy.maxLifetimeDays),
      'key older than the organization allows',
    );
  }
  if (scope !== null && action !== null && !policyAllowsUse(organization.keyPolicy, scope, action)) {
    const needed = `${scope}:${action}`;
    return deny(
      403,
      'permission_denied',
      `Organization '${organization.name}' does not allow personal API keys to use the scope '${needed}'.`,
      `scope ${needed} outside the organization's key boundary`,
    );
  }
  return null;
}

function describeGrant(principal: Principal, access: RouteAccess, organization: OrganizationFacts | undefined, project: ProjectFacts | undefined): string {
  const who = principal.kind === 'user' ? 'signed-in user' : `key ${principal.keyId}`;
  const what = access.kind === 'scoped' ? `${access.scope}:${access.action}` : 'key management';
  const where = project ? ` in project ${project.id} (level ${project.effectiveLevel})` : organization ? ` in organization (level ${organization.level})` : '';
  return `${who} may ${what}${where}`;
}
