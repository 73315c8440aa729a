/**
 * The server's rules, reused: the pure modules of src/access/ are bundled into the console, so a
 * control is disabled for exactly the reason the API would give. The messages come from the one
 * catalogue the server's use cases answer with (src/access/messages.ts): nothing is copied by hand.
 */
export { explicitMemberDenial, inviteDenial, membershipUpdateDenial, OWNER_CANNOT_LEAVE } from '../../src/access/membership-rules.js';
export { OrganizationLevel, ProjectLevel, organizationLevelName } from '../../src/access/levels.js';
export { SCOPE_OBJECTS, ALL_SCOPES, isValidScope } from '../../src/access/scopes.js';
export {
  ACCESS_CONTROL_RESOURCES,
  accessLevelsFor,
  defaultAccessLevel,
  minimumAccessLevel,
  type AccessLevel,
  type AccessControlResource,
} from '../../src/access/resources.js';
export { resolveAccess, requiredLevel, satisfies, type AccessControlRow } from '../../src/access/access-control.js';
export { resolveProjectLevel } from '../../src/access/project-access.js';
export { scopesOutsidePolicy } from '../../src/access/key-policy.js';
export {
  CREATE_PROJECT_NEEDS_ADMIN,
  INSUFFICIENT_ORG_LEVEL,
  INSUFFICIENT_PROJECT_LEVEL,
  keysDisallowedMessage,
  NOT_AN_APPROVER,
  OWN_CHANGE_REQUEST,
  POLICY_NEEDS_ADMIN,
  PROJECT_WIDE_NEEDS_ORG_ADMIN,
  ROLES_NEED_ADMIN,
  VERIFICATION_REQUIRED,
} from '../../src/access/messages.js';

export const LEVEL_NAMES: Record<number, string> = { 1: 'Member', 8: 'Admin', 15: 'Owner' };
export const levelName = (level: number | null | undefined) => (level == null ? 'No access' : (LEVEL_NAMES[level] ?? `Level ${level}`));

/** The source document's three keys. */
export const SCOPE_PRESETS: ReadonlyArray<{ name: string; label: string; scopes: string[] }> = [
  { name: 'bi', label: 'BI read-only', scopes: ['insight:read', 'dashboard:read', 'query:read'] },
  { name: 'flags', label: 'Flag service', scopes: ['feature_flag:read', 'feature_flag:write'] },
  { name: 'export', label: 'Event export', scopes: ['event:read', 'query:read'] },
];
