/** Organization membership levels, as PostHog numbers them. */
export const OrganizationLevel = { MEMBER: 1, ADMIN: 8, OWNER: 15 } as const;
export type OrganizationLevel = (typeof OrganizationLevel)[keyof typeof OrganizationLevel];

export const ORGANIZATION_LEVELS: readonly OrganizationLevel[] = [1, 8, 15];

export function isOrganizationLevel(value: unknown): value is OrganizationLevel {
  return ORGANIZATION_LEVELS.includes(value as OrganizationLevel);
}

/** PostHog's label for a level, as used in activity-log context. */
export function organizationLevelName(level: number): 'member' | 'administrator' | 'owner' {
  if (level >= OrganizationLevel.OWNER) return 'owner';
  if (level >= OrganizationLevel.ADMIN) return 'administrator';
  return 'member';
}

/** Explicit project membership levels (PostHog's ExplicitTeamMembership). */
export const ProjectLevel = { MEMBER: 1, ADMIN: 8 } as const;
export type ProjectLevel = (typeof ProjectLevel)[keyof typeof ProjectLevel];

export function isProjectLevel(value: unknown): value is ProjectLevel {
  return value === ProjectLevel.MEMBER || value === ProjectLevel.ADMIN;
}
