import { compareAccessLevels, highestAccessLevel, type AccessControlResource, type AccessLevel } from './resources.js';
import { OrganizationLevel } from './levels.js';
import { projectLevelOf } from './project-access.js';
import { ACCESS_REQUEST_MESSAGES } from './messages.js';

/**
 * Who may decide an access request: exactly those who could make the grant today (the same rule as
 * src/domain/access-control/access-controls.ts, canModify), held to the grant ceiling (nobody grants
 * above their own level):
 * - a project: its admins (explicit project admins, organization admins and owners), up to their
 *   project level;
 * - a resource type in a project (project-wide): organization admins and owners;
 * - one object: organization admins, project admins, the object's creator, and its managers.
 * Pure: every fact comes in, null (may decide) or the reason goes out.
 */
export interface AccessRequestTarget {
  resource: AccessControlResource;
  /** null: the whole resource type (project-wide); for `project`, the project itself. */
  resourceId: string | null;
  level: AccessLevel;
}

export interface DeciderFacts {
  userId: number;
  organizationLevel: number;
  /** The decider's effective level in the request's project; null = no access. */
  projectLevel: number | null;
  /** On an object request: the decider's level on the object and whether they created it. */
  objectLevel?: AccessLevel | null;
  isCreator?: boolean;
}

export function deciderDenial(target: AccessRequestTarget, facts: DeciderFacts): string | null {
  const organizationAdmin = facts.organizationLevel >= OrganizationLevel.ADMIN;
  const projectLevel = facts.projectLevel ?? 0;
  if (target.resource === 'project') {
    if (projectLevel < OrganizationLevel.ADMIN) return ACCESS_REQUEST_MESSAGES.needsProjectAdmin;
    return (projectLevelOf(target.level) ?? 0) > projectLevel ? ACCESS_REQUEST_MESSAGES.aboveCeiling : null;
  }
  if (target.resourceId === null) return organizationAdmin ? null : ACCESS_REQUEST_MESSAGES.needsOrganizationAdmin;
  const highest = highestAccessLevel(target.resource);
  const own: AccessLevel = organizationAdmin || projectLevel >= OrganizationLevel.ADMIN || facts.isCreator ? highest : (facts.objectLevel ?? 'none');
  if (own !== highest) return ACCESS_REQUEST_MESSAGES.needsObjectManager(target.resource);
  return compareAccessLevels(target.resource, target.level, own) > 0 ? ACCESS_REQUEST_MESSAGES.aboveCeiling : null;
}

/** The longest access a request may ask for (and so the longest grant an approval makes). */
export const MAX_ACCESS_REQUEST_HOURS = 24 * 90;

/**
 * The end of an approved grant: the decider's own end (a duration from now, or a time) when given,
 * else the request's. Never later than the request's end, never in the past; the reason otherwise.
 */
export function approvedExpiry(
  requested: { durationHours: number | null; expiresAt: Date | null },
  decided: { durationHours?: number | null; expiresAt?: Date | null },
  now: Date,
): { expiresAt: Date } | { error: string; attr: string } {
  const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);
  const asked = requested.expiresAt ?? hours(requested.durationHours ?? 0);
  if (asked.getTime() <= now.getTime()) return { error: ACCESS_REQUEST_MESSAGES.requestedExpiryPassed, attr: 'expires_at' };
  const given = decided.expiresAt ?? (decided.durationHours != null ? hours(decided.durationHours) : null);
  if (given === null) return { expiresAt: asked };
  const attr = decided.expiresAt ? 'expires_at' : 'duration_hours';
  if (given.getTime() <= now.getTime()) return { error: ACCESS_REQUEST_MESSAGES.expiryInPast, attr };
  if (given.getTime() > asked.getTime()) return { error: ACCESS_REQUEST_MESSAGES.longerThanRequested, attr };
  return { expiresAt: given };
}
