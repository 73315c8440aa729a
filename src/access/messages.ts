/**
 * The catalogue of user-facing messages and error codes that more than one place says: the server
 * (the access core and the domain's use cases) and the admin console, which disables a control with
 * exactly the message the API would answer (console/src/rules.ts re-exports this module). Pure text:
 * it imports nothing, so the console bundles it as it is.
 *
 * PostHog's own wording wherever PostHog has the rule (spec/posthog-reference.md), so that a client
 * written for PostHog reads the same sentence.
 */

// Organization and project levels.

/** An organization admin's (or owner's) action, asked by a member. */
export const INSUFFICIENT_ORG_LEVEL = 'Your organization access level is insufficient.';
export const CREATE_PROJECT_NEEDS_ADMIN = 'You need to be an organization admin or above to create new projects.';
export const INSUFFICIENT_PROJECT_LEVEL = "You don't have sufficient permissions in the project.";
export const ROLES_NEED_ADMIN = 'You need to have admin level or higher.';
export const PROJECT_WIDE_NEEDS_ORG_ADMIN = 'Must be an Organization admin to modify project-wide permissions.';

// SSO domains.

/** SSO enforcement, JIT and SCIM wait for a verified domain: the message and its code. */
export const VERIFICATION_REQUIRED = 'This attribute cannot be updated until the domain is verified.';
export const VERIFICATION_REQUIRED_CODE = 'verification_required';

// Change requests and approval policies.

export const OWN_CHANGE_REQUEST = 'You cannot approve or reject your own change request.';
export const POLICY_NEEDS_ADMIN = 'You need to be an organization admin to change approval policies.';
export const NOT_AN_APPROVER = 'You are not an approver of this change request.';

// The grant ceiling (grant-ceiling.ts): the codes are its breaches.

export const CEILING_MESSAGES = {
  owner_only: "You can only make another member owner if you're this organization's owner.",
  above_own_level: 'You can only change access level of others to lower or equal to your current one.',
  target_above_own_level: 'You can only edit others with level lower or equal to you.',
} as const;

/** Why the grant ceiling refuses a change. */
export type CeilingBreach = keyof typeof CEILING_MESSAGES;

export const ceilingMessage = (breach: CeilingBreach): string => CEILING_MESSAGES[breach];

// An organization's policy for its members' personal API keys (key-policy.ts).

/** A member's key reaches an organization that does not allow members' keys. */
export const keysDisallowedMessage = (organizationName: string) =>
  `Organization '${organizationName}' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.`;

/** A new key would carry a scope outside the organization's boundary. */
export const scopeOutsidePolicyMessage = (organizationName: string, scope: string) =>
  `Organization '${organizationName}' does not allow personal API keys the scope '${scope}'.`;

/** A new key would live longer than the organization allows. */
export const lifetimeOverPolicyMessage = (organizationName: string, maxLifetimeDays: number | null) =>
  `Organization '${organizationName}' allows personal API keys to live at most ${maxLifetimeDays} days.`;

/** A key used past the organization's lifetime (401, authentication_failed). */
export const keyExpiredByPolicyMessage = (organizationName: string, maxLifetimeDays: number | null) =>
  `Personal API key has expired: organization '${organizationName}' allows keys to live at most ${maxLifetimeDays} days.`;

// Access requests (access-requests.ts).

export const ACCESS_REQUEST_MESSAGES = {
  needsProjectAdmin: 'Only admins of the project can decide requests for access to it.',
  needsOrganizationAdmin: 'Must be an Organization admin to decide requests for project-wide access.',
  needsObjectManager: (resource: string) => `Must be manager of this ${resource} to decide requests for access to it.`,
  aboveCeiling: 'You can only grant access lower or equal to your own.',
  ownRequest: 'You cannot approve or deny your own access request.',
  alreadyDecided: (state: string) => `This access request was already ${state}.`,
  higherThanRequested: 'An approval cannot grant a higher level than was requested.',
  longerThanRequested: 'An approval cannot grant access for longer than was requested.',
  expiryInPast: 'The expiry must be in the future.',
  requestedExpiryPassed: 'The requested access has already expired; deny this request instead.',
  pendingExists: 'You already have a pending request for this access.',
  reasonRequired: 'Say why you need this access.',
} as const;
// Keys bound to networks and rates (key-networks.ts, key-policy.ts).

/** A key used from an address outside its ranges (403, permission_denied). */
export const keyOutsideRangesMessage = (address: string) => `This personal API key may not be used from your address (${address}).`;

/** A key reaching an organization that requires ranges, without any (creating one: 400; using one: 403). */
export const rangesRequiredMessage = (organizationName: string) =>
  `Organization '${organizationName}' requires personal API keys to be restricted to IP address ranges (allowed_ips).`;
