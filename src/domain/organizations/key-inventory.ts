import { ceilingMessage, targetBreach } from '../../access/grant-ceiling.js';
import type { Queryable } from '../../store/database.js';
import type { Actor } from '../actor.js';
import { logKeyActivity } from './api-keys.js';
import { notFound, permissionDenied } from '../errors.js';
import { lockAsAdmin } from './organizations.js';
import type { PersonalApiKeyRecord, UserRecord } from '../records.js';

/**
 * The organization's key inventory: every personal API key of its members (people and service
 * accounts) that can reach the organization, for its admins to see and revoke. A key confined to
 * other organizations, or to projects of other organizations only, is not this organization's
 * business and does not appear. The grant ceiling (src/access/grant-ceiling.ts) decides which keys
 * an admin may revoke: those of members whose level is not above the admin's.
 */
export interface InventoryKey extends Omit<PersonalApiKeyRecord, 'secure_value'> {
  owner: {
    id: number;
    uuid: string;
    email: string;
    first_name: string;
    last_name: string;
    is_service_account: boolean;
    /** The owner's level in this organization. */
    level: number;
  };
}

interface InventoryRow extends Omit<PersonalApiKeyRecord, 'secure_value'> {
  u_uuid: string;
  u_email: string;
  u_first_name: string | null;
  u_last_name: string | null;
  u_is_service_account: boolean;
  m_level: number;
}

const KEY_COLUMNS = `k.id, k.user_id, k.label, k.mask_value, k.scopes, k.scoped_teams, k.scoped_organizations,
  k.created_at, k.last_used_at, k.last_rolled_at, k.expires_at, k.allowed_ips, k.rate_limit_per_minute,
  u.uuid::text AS u_uuid, u.email AS u_email, u.first_name AS u_first_name, u.last_name AS u_last_name,
  u.is_service_account AS u_is_service_account, m.level AS m_level`;

/** Keys of the organization's members that reach it ($1 = organization id). */
const IN_ORGANIZATION = `FROM personal_api_keys k
  JOIN organization_memberships m ON m.user_id = k.user_id AND m.organization_id = $1::uuid
  JOIN users u ON u.id = k.user_id
 WHERE (k.scoped_organizations IS NULL OR $1::text = ANY(k.scoped_organizations))
   AND (k.scoped_teams IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.organization_id = $1::uuid AND p.id = ANY(k.scoped_teams)))`;

function toKey(row: InventoryRow): InventoryKey {
  const { u_uuid, u_email, u_first_name, u_last_name, u_is_service_account, m_level, ...key } = row;
  return {
    ...key,
    owner: {
      id: key.user_id,
      uuid: u_uuid,
      email: u_email,
      first_name: u_first_name ?? '',
      last_name: u_last_name ?? '',
      is_service_account: u_is_service_account,
      level: m_level,
    },
  };
}

/** The inventory, newest first (the route lets only the organization's admins read it). */
export async function listOrganizationKeys(q: Queryable, organizationId: string): Promise<InventoryKey[]> {
  const rows = await q.query<InventoryRow>(`SELECT ${KEY_COLUMNS} ${IN_ORGANIZATION} ORDER BY k.created_at DESC, k.id`, [organizationId]);
  return rows.map(toKey);
}

/** May an admin at `adminLevel` revoke this key (its owner's level is not above theirs)? */
export const mayRevoke = (adminLevel: number, key: Pick<InventoryKey, 'owner'>): boolean => targetBreach(adminLevel, key.owner.level) === null;

/**
 * Revokes (deletes) a key of the inventory: the caller must be an admin of the organization, the
 * key must reach it, and its owner's level must not be above the caller's. The activity log gets
 * `api_key_revoked` in every organization the key reaches, in the same transaction; the access
 * caches of every node forget the key when it commits (migration 0010's triggers).
 */
export async function revokeOrganizationKey(tx: Queryable, actor: Actor & { userId: number }, organizationId: string, keyId: string): Promise<InventoryKey> {
  const { level } = await lockAsAdmin(tx, organizationId, actor.userId);
  const [row] = await tx.query<InventoryRow>(`SELECT ${KEY_COLUMNS} ${IN_ORGANIZATION} AND k.id = $2 FOR UPDATE OF k`, [organizationId, keyId]);
  if (!row) throw notFound();
  const key = toKey(row);
  const breach = targetBreach(level, key.owner.level);
  if (breach) throw permissionDenied(ceilingMessage(breach));
  const [owner] = await tx.query<UserRecord>('SELECT * FROM users WHERE id = $1', [key.user_id]);
  await logKeyActivity(tx, actor, owner!, { ...key, secure_value: '' }, 'api_key_revoked', [{ type: 'PersonalAPIKey', action: 'deleted' }], {
    revoked_by_admin: true,
    revoked_in_organization_id: organizationId,
  });
  await tx.query('DELETE FROM personal_api_keys WHERE id = $1', [key.id]);
  return key;
}
