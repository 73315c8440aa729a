import { policyAllowsUse, policyDeadline, type KeyPolicy } from './key-policy.js';
import { OrganizationLevel } from './levels.js';
import type { RouteAccess } from './route-access.js';
import { ALL_SCOPES, scopesGrant } from './scopes.js';

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
  now: Date;
}

export type Denial = { allow: false; status: 401 | 403 | 404; code: string; detail: string; reason: string };
export type Decision = { allow: true; reason: string } | Denial;

const deny = (status: Denial['status'], code: string, detail: string, reason = detail): Denial => ({
  allow: false,
  status,
  code,
  detail,
  reason,
});

export const NO_KEY_ACCESS = 'This action does not support Personal API Key access';
export const SERVICE_ACCOUNT_KEY_MANAGEMENT = "A service account's keys are managed by its organization's admins.";

/**
 * May this principal make this request? Pure: every fact comes in, a decision with a readable
 * reason goes out. The order of checks follows PostHog: authentication, the key's scopes, the key's
 * project/organization scoping, the organization's key policy, then membership and project access.
 */
export function decide(input: DecisionInput): Decision {
  const { principal, access, organization, project } = input;
  if (access.kind === 'public' || access.kind === 'project_token') return { allow: true, reason: `${access.kind} route` };
  if (!principal) return deny(401, 'not_authenticated', 'Authentication credentials were not provided.', 'no credentials');

  if (principal.kind === 'personal_api_key') {
    const keyDenial = keyDenialFor(principal, input);
    if (keyDenial) return keyDenial;
  }

  if (organization === 'missing') return deny(404, 'not_found', 'Organization not found.');
  if (project === 'missing') return deny(404, 'not_found', 'Project not found.');
  if (organization && organization.level === null) {
    return deny(404, 'not_found', project ? 'Project not found.' : 'Organization not found.', 'not a member of the organization');
  }
  if (project && project.effectiveLevel === null) {
    return deny(403, 'permission_denied', "You don't have access to the project.", 'private project without membership');
  }
  return { allow: true, reason: describeGrant(principal, access, organization, project) };
}

function keyDenialFor(key: Extract<Principal, { kind: 'personal_api_key' }>, input: DecisionInput): Denial | null {
  const { access, organization, project } = input;
  if (access.kind === 'key_management') {
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
  if (access.kind !== 'scoped') return null;
  const granted =
    scopesGrant(key.scopes, access.scope, access.action) ||
    (access.alsoAccepts !== undefined && scopesGrant(key.scopes, access.alsoAccepts, access.action));
  if (!granted) {
    const needed = `${access.scope}:${access.action}`;
    return deny(403, 'permission_denied', `API key missing required scope '${needed}'`, `key lacks ${needed}`);
  }
  if (project && project !== 'missing' && key.scopedTeams && !key.scopedTeams.includes(project.id)) {
    return deny(403, 'permission_denied', `API key does not have access to the requested project: ID ${project.id}.`, 'key scoped to other projects');
  }
  if (organization && organization !== 'missing' && key.scopedOrganizations && !key.scopedOrganizations.includes(organization.id)) {
    const what = project && project !== 'missing' ? `project: ID ${project.id}` : `organization: ID ${organization.id}`;
    return deny(403, 'permission_denied', `API key does not have access to the requested ${what}.`, 'key scoped to other organizations');
  }
  if (!organization || organization === 'missing' || organization.level === null) return null;
  if (!organization.membersCanUsePersonalApiKeys && organization.level < OrganizationLevel.ADMIN) {
    return deny(
      403,
      'permission_denied',
      `Organization '${organization.name}' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.`,
      'organization forbids member keys',
    );
  }
  const deadline = policyDeadline(organization.keyPolicy, key.createdAt);
  if (deadline !== null && deadline.getTime() <= input.now.getTime()) {
    return deny(
      401,
      'authentication_failed',
      `Personal API key has expired: organization '${organization.name}' allows keys to live at most ${organization.keyPolicy.maxLifetimeDays} days.`,
      'key older than the organization allows',
    );
  }
  if (!policyAllowsUse(organization.keyPolicy, access.scope, access.action)) {
    const scope = `${access.scope}:${access.action}`;
    return deny(
      403,
      'permission_denied',
      `Organization '${organization.name}' does not allow personal API keys to use the scope '${scope}'.`,
      `scope ${scope} outside the organization's key boundary`,
    );
  }
  return null;
}

function describeGrant(
  principal: Principal,
  access: RouteAccess,
  organization: OrganizationFacts | undefined,
  project: ProjectFacts | undefined,
): string {
  const who = principal.kind === 'user' ? 'signed-in user' : `key ${principal.keyId}`;
  const what = access.kind === 'scoped' ? `${access.scope}:${access.action}` : 'key management';
  const where = project ? ` in project ${project.id} (level ${project.effectiveLevel})` : organization ? ` in organization (level ${organization.level})` : '';
  return `${who} may ${what}${where}`;
}
