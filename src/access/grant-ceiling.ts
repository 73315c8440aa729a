import { OrganizationLevel } from './levels.js';
import type { CeilingBreach } from './messages.js';

/**
 * The ceiling: no path grants more than its caller holds.
 *
 * An actor's authority is their organization level. With it they may give a level only up to their
 * own (Owner only if they are an Owner), and change or take away anything of another member (their
 * level, roles, keys, account, a service account's keys) only if that member's level is not above
 * theirs. A standing grant that acts later on the actor's behalf (an SSO group mapping, the JIT
 * default level, a SCIM token, a pending invite) records the authority of whoever made it and is
 * held to it every time it is applied, not only when it is saved.
 *
 * Every path that grants or revokes asks these functions: member and invite routes, SSO group
 * mappings (at save and at login), JIT, SCIM, service accounts and their keys, the access matrix.
 * Each returns null when allowed, else the reason (the caller maps it to its own message; PostHog's
 * are in messages.ts, CEILING_MESSAGES).
 */
export type { CeilingBreach };
export { CEILING_MESSAGES, ceilingMessage } from './messages.js';

/** May an actor with `authority` give (or keep in force) `level`? */
export function levelGrantBreach(authority: number, level: number): CeilingBreach | null {
  if (level === OrganizationLevel.OWNER && authority !== OrganizationLevel.OWNER) return 'owner_only';
  if (level > authority) return 'above_own_level';
  return null;
}

/** May an actor with `authority` change or take away anything of someone whose level is `targetLevel`? */
export function targetBreach(authority: number, targetLevel: number): CeilingBreach | null {
  return targetLevel > authority ? 'target_above_own_level' : null;
}

/** Both: change a member at `targetLevel` to `level`. */
export function levelChangeBreach(authority: number, targetLevel: number, level: number): CeilingBreach | null {
  return targetBreach(authority, targetLevel) ?? levelGrantBreach(authority, level);
}

/**
 * The level a standing grant made with `authority` gives when it would give `wanted` to someone now
 * at `currentLevel`: `wanted` when the grant may do it, else the member keeps their level.
 */
export function levelUnderCeiling(authority: number, currentLevel: number, wanted: number): number {
  return levelChangeBreach(authority, currentLevel, wanted) ? currentLevel : wanted;
}
