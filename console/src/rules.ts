/**
 * The server's rules, reused: the pure modules of src/access/ are bundled into the console, so a
 * control is disabled for exactly the reason the API would give. Messages that live in the
 * server's use cases (src/domain/, which also holds database code) are mirrored below, verbatim.
 */
export { explicitMemberDenial, inviteDenial, membershipUpdateDenial, OWNER_CANNOT_LEAVE } from '../../src/access/membership-rules.js';
export { OrganizationLevel, ProjectLevel, organizationLevelName } from '../../src/access/levels.js';
export { SCOPE_OBJECTS, ALL_SCOPES, isValidScope } from '../../src/access/scopes.js';
export { ACCESS_CONTROL_RESOURCES, accessLevelsFor, defaultAccessLevel, type AccessLevel, type AccessControlResource } from '../../src/access/resources.js';
export { resolveAccess, requiredLevel, satisfies, type AccessControlRow } from '../../src/access/access-control.js';
export { resolveProjectLevel } from '../../src/access/project-access.js';
export { scopesOutsidePolicy } from '../../src/access/key-policy.js';

/** src/domain/organizations.ts INSUFFICIENT_ORG_LEVEL */
export const INSUFFICIENT_ORG_LEVEL = 'Your organization access level is insufficient.';
/** src/domain/projects.ts CREATE_PROJECT_NEEDS_ADMIN */
export const CREATE_PROJECT_NEEDS_ADMIN = 'You need to be an organization admin or above to create new projects.';
/** src/domain/projects.ts INSUFFICIENT_PROJECT_LEVEL */
export const INSUFFICIENT_PROJECT_LEVEL = "You don't have sufficient permissions in the project.";
/** src/domain/roles.ts ROLES_NEED_ADMIN */
export const ROLES_NEED_ADMIN = 'You need to have admin level or higher.';
/** src/domain/access-controls.ts PROJECT_WIDE_NEEDS_ORG_ADMIN */
export const PROJECT_WIDE_NEEDS_ORG_ADMIN = 'Must be an Organization admin to modify project-wide permissions.';
/** src/domain/organization-domains.ts VERIFICATION_REQUIRED */
export const VERIFICATION_REQUIRED = 'This attribute cannot be updated until the domain is verified.';
/** src/domain/change-requests.ts */
export const OWN_CHANGE_REQUEST = 'You cannot approve or reject your own change request.';
export const NOT_AN_APPROVER = 'You are not an approver of this change request.';
export const POLICY_NEEDS_ADMIN = 'You need to be an organization admin to change approval policies.';
/** src/domain/access-controls.ts minimumAccessLevel: `action` never below viewer. */
export const minimumAccessLevel = (resource: string) => (resource === 'action' ? 'viewer' : 'none');

export const LEVEL_NAMES: Record<number, string> = { 1: 'Member', 8: 'Admin', 15: 'Owner' };
export const levelName = (level: number | null | undefined) => (level == null ? 'No access' : LEVEL_NAMES[level] ?? `Level ${level}`);

/** The source document's three keys. */
export const SCOPE_PRESETS: ReadonlyArray<{ name: string; label: string; scopes: string[] }> = [
  { name: 'bi', label: 'BI read-only', scopes: ['insight:read', 'dashboard:read', 'query:read'] },
  { name: 'flags', label: 'Flag service', scopes: ['feature_flag:read', 'feature_flag:write'] },
  { name: 'export', label: 'Event export', scopes: ['event:read', 'query:read'] },
];
/** src/domain/api-keys.ts keysDisallowedMessage */
export const keysDisallowedMessage = (organizationName: string) =>
  `Organization '${organizationName}' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.`;
