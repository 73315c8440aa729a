/**
 * The terms a grant may carry (issue 25; docs/time-bound-access.md): when it ends on its own and why
 * it was given. Every grant kind (an organization level raise, an explicit project membership, a role
 * membership, an access-control row) takes them, through the `terms` parameter of the domain function
 * that creates or changes it; this module is the one place they are read from input and checked.
 */
import type { Queryable } from '../../store/database.js';
import { validation } from '../errors.js';

export interface GrantTerms {
  /** When the grant ends by itself; null = lasting. */
  expiresAt: Date | null;
  /** Why it was given (shown in member lists and "who has access"); null = none given. */
  reason: string | null;
}

export const LASTING: GrantTerms = Object.freeze({ expiresAt: null, reason: null });

export const REASON_MAX = 1000;
export const EXPIRY_IN_PAST = 'The expiry must be in the future.';

/** The wire fields of a grant's terms (both optional; null = none). */
export interface GrantTermsInput {
  expires_at?: string | null;
  reason?: string | null;
}

/** Terms from a request body, or undefined when it names neither field (the grant's terms stay as they are). */
export function grantTermsFrom(input: GrantTermsInput): GrantTerms | undefined {
  if (input.expires_at === undefined && input.reason === undefined) return undefined;
  let expiresAt: Date | null = null;
  if (input.expires_at !== undefined && input.expires_at !== null) {
    expiresAt = new Date(input.expires_at);
    if (Number.isNaN(expiresAt.getTime())) throw validation('Enter a valid date/time.', 'expires_at', 'invalid');
  }
  const reason = typeof input.reason === 'string' && input.reason.trim() !== '' ? input.reason.trim() : null;
  if (reason !== null && reason.length > REASON_MAX) {
    throw validation(`Ensure this field has no more than ${REASON_MAX} characters.`, 'reason', 'max_length');
  }
  return { expiresAt, reason };
}

/** What a grant touches, for the production cap: one project, a role's projects, or the whole organization. */
export type GrantReach = { projectId: number } | { roleId: string } | { organizationWide: true };

/**
 * Checks terms before anything is written: the expiry is in the future, and a grant touching a
 * production project ends within the organization's `production_grant_max_hours` (a lasting one is
 * refused while a cap is set). Errors are 400s on `expires_at`.
 */
export async function checkGrantTerms(q: Queryable, organizationId: string, terms: GrantTerms, reach: GrantReach): Promise<void> {
  const now = Date.now();
  if (terms.expiresAt !== null && terms.expiresAt.getTime() <= now) throw validation(EXPIRY_IN_PAST, 'expires_at');
  const [org] = await q.query<{ cap: number | null }>('SELECT production_grant_max_hours AS cap FROM organizations WHERE id = $1', [organizationId]);
  const cap = org?.cap ?? null;
  if (cap === null || !(await touchesProduction(q, organizationId, reach))) return;
  if (terms.expiresAt === null) {
    throw validation(`This grant touches a production project: it must expire within ${cap} hours (the organization's cap).`, 'expires_at');
  }
  if (terms.expiresAt.getTime() > now + cap * 3_600_000) {
    throw validation(`A grant touching a production project may last at most ${cap} hours (the organization's cap).`, 'expires_at');
  }
}

async function touchesProduction(q: Queryable, organizationId: string, reach: GrantReach): Promise<boolean> {
  const [found] =
    'projectId' in reach
      ? await q.query('SELECT 1 FROM projects WHERE id = $1 AND is_production', [reach.projectId])
      : 'roleId' in reach
        ? await q.query(
            `SELECT 1 FROM access_controls ac JOIN projects p ON p.id = ac.team_id
              WHERE ac.role_id = $1 AND p.is_production LIMIT 1`,
            [reach.roleId],
          )
        : await q.query('SELECT 1 FROM projects WHERE organization_id = $1 AND is_production LIMIT 1', [organizationId]);
  return found !== undefined;
}

/** Do the terms say what a stored grant already carries? */
export function sameTerms(terms: GrantTerms, stored: { expires_at: Date | string | null; reason: string | null }): boolean {
  const at = stored.expires_at === null ? null : new Date(stored.expires_at).getTime();
  return (terms.expiresAt?.getTime() ?? null) === at && terms.reason === stored.reason;
}

/** The earliest of some expiries, in epoch milliseconds; null when none. */
export function earliestExpiry(...values: ReadonlyArray<Date | string | null | undefined>): number | null {
  let min: number | null = null;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const t = new Date(v).getTime();
    if (min === null || t < min) min = t;
  }
  return min;
}

/** The wire form of an expiry. */
export const expiryOnWire = (at: Date | string | null | undefined): string | null => (at ? new Date(at).toISOString() : null);
