import { ceilingMessage, levelGrantBreach, targetBreach } from './grant-ceiling.js';
import { OrganizationLevel } from './levels.js';

/** A requester's or target's organization membership, as the rules need it. */
export interface MembershipFacts {
  userId: number;
  organizationId: string;
  level: number;
}

/**
 * PostHog's `validate_update` (posthog/models/organization.py): may `requester` change `target`'s
 * level to `newLevel` (or, with newLevel undefined, remove/edit target)? Returns the denial message
 * or null. One place for the rule: level changes and removals both call it.
 */
export function membershipUpdateDenial(requester: MembershipFacts, target: MembershipFacts, newLevel?: number): string | null {
  const self = requester.userId === target.userId;
  if (newLevel !== undefined) {
    if (self) return "You can't change your own access level.";
    const breach = levelGrantBreach(requester.level, newLevel);
    if (breach) return ceilingMessage(breach);
  }
  if (!self) {
    if (target.organizationId !== requester.organizationId) return 'You both need to belong to the same organization.';
    if (requester.level < OrganizationLevel.ADMIN) return 'You can only edit others if you are an admin.';
    const breach = targetBreach(requester.level, target.level);
    if (breach) return ceilingMessage(breach);
  }
  return null;
}

/** An owner must be demoted before leaving (PostHog's `User.leave`). */
export const OWNER_CANNOT_LEAVE = 'Cannot leave the organization as its owner!';

/** Warden's own guarantee, checked in the same transaction as every change to owners. */
export const LAST_OWNER = 'An organization must always have at least one owner.';

/** Inviting: never above your own level (posthog/api/organization_invite.py). */
export function inviteDenial(inviterLevel: number, inviteLevel: number, membersCanInvite: boolean): string | null {
  if (inviterLevel < OrganizationLevel.ADMIN && !membersCanInvite) {
    return 'Your organization access level is insufficient.';
  }
  if (levelGrantBreach(inviterLevel, inviteLevel)) return 'You cannot invite a user with a higher permission level than your own.';
  return null;
}

/**
 * A new invite replaces a pending one for the same address: that takes the pending invite away, so
 * the replacer must be able to have made it (a Member cannot swap an Admin's invite for their own).
 */
export function inviteReplacementDenial(inviterLevel: number, pendingLevel: number): string | null {
  return levelGrantBreach(inviterLevel, pendingLevel)
    ? 'An invite with a higher level than your own is pending for this email address; only someone who could make it may replace it.'
    : null;
}

/**
 * Explicit project membership writes (ee/api/explicit_team_member.py). `requesterProjectLevel` is the
 * requester's effective level in the project; `targetExplicitLevel` is the level of the membership
 * being edited (undefined when adding).
 */
export function explicitMemberDenial(input: {
  requesterUserId: number;
  requesterProjectLevel: number;
  targetUserId: number;
  targetExplicitLevel?: number;
  newLevel?: number;
}): string | null {
  const { requesterUserId, requesterProjectLevel, targetUserId, targetExplicitLevel, newLevel } = input;
  if (requesterProjectLevel < OrganizationLevel.ADMIN) return "You don't have sufficient permissions in the project.";
  if (newLevel !== undefined && newLevel > requesterProjectLevel) {
    return 'You can only set access level to lower or equal to your current one.';
  }
  if (targetExplicitLevel === undefined) {
    if (targetUserId === requesterUserId) return "You can't explicitly add yourself to projects.";
    return null;
  }
  if (targetUserId !== requesterUserId) {
    if (targetExplicitLevel > requesterProjectLevel) return 'You can only edit others with level lower or equal to you.';
  } else if (newLevel !== undefined) {
    return "You can't set your own access level.";
  }
  return null;
}
