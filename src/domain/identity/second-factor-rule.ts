import type { Queryable } from '../../store/database.js';

/**
 * The one rule for "has a second factor", as SQL over a user id expression: a confirmed TOTP device
 * or a passkey.
 * Used by the session fact (2FA enforcement), the members list (`is_2fa_enabled`) and the count of
 * members not yet compliant.
 */
export const hasSecondFactorSql = (userId: string) =>
  `(EXISTS (SELECT 1 FROM totp_devices tf WHERE tf.user_id = ${userId} AND tf.confirmed_at IS NOT NULL)
    OR EXISTS (SELECT 1 FROM webauthn_credentials wc WHERE wc.user_id = ${userId}))`;

export async function hasSecondFactor(q: Queryable, userId: number): Promise<boolean> {
  const [row] = await q.query<{ yes: boolean }>(`SELECT ${hasSecondFactorSql('$1::int')} AS yes`, [userId]);
  return row?.yes === true;
}

/** Members (people, not service accounts) of an organization who have no second factor yet. */
export async function countMembersWithoutSecondFactor(q: Queryable, organizationId: string): Promise<number> {
  const [row] = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM organization_memberships m JOIN users u ON u.id = m.user_id
      WHERE m.organization_id = $1 AND NOT u.is_service_account AND NOT ${hasSecondFactorSql('u.id')}`,
    [organizationId],
  );
  return row?.n ?? 0;
}
