import { OrganizationLevel } from './levels.js';

export interface ProjectAccessFacts {
  /** The user's organization level, or null when not a member of the project's organization. */
  organizationLevel: number | null;
  /** Is the project private (PostHog's `access_control`)? */
  accessControl: boolean;
  /** The user's explicit project membership level, if any. */
  explicitLevel: number | null;
}

/**
 * The user's effective level in a project (PostHog's legacy rule, posthog/user_permissions.py):
 * not in the organization -> none; open project -> the organization level; explicit membership ->
 * max(explicit, organization level); otherwise organization admins keep their level (implicit
 * project admin) and members have no access.
 */
export function effectiveProjectLevel(facts: ProjectAccessFacts): number | null {
  const { organizationLevel, accessControl, explicitLevel } = facts;
  if (organizationLevel === null) return null;
  if (!accessControl) return organizationLevel;
  if (explicitLevel !== null) return Math.max(explicitLevel, organizationLevel);
  if (organizationLevel >= OrganizationLevel.ADMIN) return organizationLevel;
  return null;
}
