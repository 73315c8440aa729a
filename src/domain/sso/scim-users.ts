/**
 * SCIM users of a domain (RFC 7643 §4.1; PostHog's ee/api/scim/user.py): a Warden user whose email
 * is in the domain, with a `scim_users` row linking them to it. Creating one makes the user (no
 * password) or links the existing account, and adds them to the domain's organization at Member.
 * `active: false` and DELETE remove the membership and end the user's sessions and personal API
 * keys in the same transaction (only those that reach no other organization of the user);
 * `active: true` brings the membership back at Member. Every change is an Organization-scope
 * activity entry by the system, with `via: 'scim'` in its context.
 *
 * The token acts for the admin who issued it (src/access/grant-ceiling.ts): it touches no member
 * whose level is above the issuer's, and reaches no other organization.
 */
import { targetBreach } from '../../access/grant-ceiling.js';
import { OrganizationLevel } from '../../access/levels.js';
import { LAST_OWNER } from '../../access/membership-rules.js';
import { scimBadRequest, scimConflict, scimNotFound, ScimError } from '../../scim/errors.js';
import { filterToSql, type ColumnMap } from '../../scim/filter-sql.js';
import type { Filter } from '../../scim/filter.js';
import type { Queryable } from '../../store/database.js';
import { recordActivity, type Change } from '../activity/activity.js';
import { systemActor } from '../actor.js';
import { deleteApiKey, listApiKeys } from '../organizations/api-keys.js';
import { deleteMembership } from '../organizations/members.js';
import { addMembership, findMembership, isOnlyOwner, lockOrganization, membershipContext } from '../organizations/organizations.js';
import type { OrganizationRecord, PersonalApiKeyRecord, UserRecord } from '../records.js';
import type { DomainRecord } from './sso-domains.js';
import { emailInDomain } from './sso-login.js';
import { findUserByEmail, insertUser, isUuid, normalizeEmail, setCurrentContext } from '../identity/users.js';

/** What a SCIM client may set on a user. `active` undefined = leave as it is. */
export interface ScimUserInput {
  userName: string;
  givenName: string;
  familyName: string;
  externalId: string | null;
  active?: boolean;
}

export interface ScimUserRow {
  user: UserRecord;
  external_id: string | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
  groups: Array<{ id: string; name: string }>;
}

const USER_COLUMNS: ColumnMap = {
  id: { expr: 'u.uuid::text', type: 'text' },
  username: { expr: 'u.email', type: 'text' },
  'emails.value': { expr: 'u.email', type: 'text' },
  'emails.type': { expr: "'work'", type: 'text' },
  externalid: { expr: 'su.external_id', type: 'text', caseExact: true },
  'name.givenname': { expr: 'u.first_name', type: 'text' },
  'name.familyname': { expr: 'u.last_name', type: 'text' },
  displayname: { expr: "btrim(u.first_name || ' ' || u.last_name)", type: 'text' },
  active: { expr: 'su.active', type: 'boolean' },
};

const SELECT = `SELECT row_to_json(u.*) AS user, su.external_id, su.active, su.created_at, su.updated_at
  FROM scim_users su JOIN users u ON u.id = su.user_id`;

type Row = Omit<ScimUserRow, 'user' | 'groups'> & { user: Record<string, unknown> };

async function withGroups(q: Queryable, domain: DomainRecord, rows: Row[]): Promise<ScimUserRow[]> {
  const users = rows.map((r) => ({ ...r, user: userFromJson(r.user), groups: [] as ScimUserRow['groups'] }));
  if (users.length === 0) return users;
  const groups = await q.query<{ user_id: number; id: string; name: string }>(
    `SELECT m.user_id, r.id, r.name FROM scim_groups sg
       JOIN roles r ON r.id = sg.role_id
       JOIN role_memberships rm ON rm.role_id = r.id
       JOIN organization_memberships m ON m.id = rm.organization_member_id
      WHERE sg.domain_id = $1 AND m.user_id = ANY($2::int[]) ORDER BY r.name, r.id`,
    [domain.id, users.map((u) => u.user.id)],
  );
  for (const u of users) u.groups = groups.filter((g) => g.user_id === u.user.id).map(({ id, name }) => ({ id, name }));
  return users;
}

function userFromJson(json: Record<string, unknown>): UserRecord {
  return {
    ...(json as unknown as UserRecord),
    last_login: json.last_login ? new Date(json.last_login as string) : null,
    date_joined: new Date(json.date_joined as string),
  };
}

export async function listScimUsers(
  q: Queryable,
  domain: DomainRecord,
  query: { filter: Filter | null; offset: number; limit: number },
): Promise<{ total: number; rows: ScimUserRow[] }> {
  const params: unknown[] = [domain.id];
  const where = `su.domain_id = $1${query.filter ? ` AND ${filterToSql(query.filter, USER_COLUMNS, params)}` : ''}`;
  const [count] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM scim_users su JOIN users u ON u.id = su.user_id WHERE ${where}`, params);
  const rows = await q.query<Row>(`${SELECT} WHERE ${where} ORDER BY su.created_at, u.id LIMIT ${query.limit} OFFSET ${query.offset}`, params);
  return { total: count?.n ?? 0, rows: await withGroups(q, domain, rows) };
}

export async function getScimUser(q: Queryable, domain: DomainRecord, id: string, lock = false): Promise<ScimUserRow> {
  if (!isUuid(id)) throw scimNotFound(`User ${id} not found.`);
  const rows = await q.query<Row>(`${SELECT} WHERE su.domain_id = $1 AND u.uuid = $2${lock ? ' FOR UPDATE OF su' : ''}`, [domain.id, id]);
  if (rows.length === 0) throw scimNotFound(`User ${id} not found.`);
  return (await withGroups(q, domain, rows))[0]!;
}

/** userName is the email address; it must be one of the domain's. */
function emailOf(domain: DomainRecord, userName: string): string {
  let email: string;
  try {
    email = normalizeEmail(userName, 'userName');
  } catch {
    throw scimBadRequest('invalidValue', 'userName must be an email address.');
  }
  if (!emailInDomain(email, domain.domain)) throw scimBadRequest('invalidValue', `userName must be an email address in ${domain.domain}.`);
  return email;
}

const scimContext = (domain: DomainRecord, extra: Record<string, unknown> = {}) => ({
  via: 'scim',
  domain_id: domain.id,
  domain: domain.domain,
  ...extra,
});

export async function createScimUser(tx: Queryable, domain: DomainRecord, input: ScimUserInput): Promise<ScimUserRow> {
  const organization = await lockOrganization(tx, domain.organization_id);
  const email = emailOf(domain, input.userName);
  let user = await findUserByEmail(tx, email);
  const linked = user !== undefined;
  if (user) {
    const [linked] = await tx.query('SELECT 1 FROM scim_users WHERE domain_id = $1 AND user_id = $2', [domain.id, user.id]);
    if (linked) throw scimConflict(`A user with userName ${email} already exists.`);
    if (user.is_service_account) throw scimConflict(`${email} belongs to a service account.`);
    await assertUnderScimCeiling(tx, organization, domain, user.id);
  } else {
    user = await insertUser(tx, { email, firstName: input.givenName, lastName: input.familyName, passwordHash: null });
  }
  const active = input.active ?? true;
  await tx.query('INSERT INTO scim_users (domain_id, user_id, external_id, active) VALUES ($1, $2, $3, $4)', [domain.id, user.id, input.externalId, active]);
  await recordActivity(tx, {
    organizationId: organization.id,
    actor: systemActor,
    scope: 'Organization',
    activity: 'user_provisioned',
    itemId: user.uuid,
    detail: {
      name: user.email,
      changes: [{ type: 'ScimUser', action: 'created', field: 'active', before: null, after: active }],
      context: scimContext(domain, {
        user_id: user.id,
        user_uuid: user.uuid,
        user_email: user.email,
        external_id: input.externalId,
        linked_existing_user: linked,
      }),
    },
  });
  // A linked account takes the identity provider's names.
  await updateUserFields(tx, organization, domain, user, { ...input, userName: user.email });
  if (active) await joinOrganization(tx, organization, user);
  return getScimUser(tx, domain, user.uuid);
}

/** PUT, and PATCH after its operations are applied: the user becomes what the input says. */
export async function replaceScimUser(tx: Queryable, domain: DomainRecord, id: string, input: ScimUserInput): Promise<ScimUserRow> {
  const organization = await lockOrganization(tx, domain.organization_id);
  const current = await getScimUser(tx, domain, id, true);
  await assertUnderScimCeiling(tx, organization, domain, current.user.id);
  const email = emailOf(domain, input.userName);
  if (email.toLowerCase() !== current.user.email.toLowerCase()) {
    const taken = await findUserByEmail(tx, email);
    if (taken && taken.id !== current.user.id) throw scimConflict(`A user with userName ${email} already exists.`);
  }
  await updateUserFields(tx, organization, domain, current.user, { ...input, userName: email });
  if (input.externalId !== current.external_id) {
    await tx.query('UPDATE scim_users SET external_id = $3, updated_at = now() WHERE domain_id = $1 AND user_id = $2', [
      domain.id,
      current.user.id,
      input.externalId,
    ]);
  }
  const fresh = await getScimUser(tx, domain, id);
  if (input.active === false && current.active) await deactivate(tx, organization, domain, fresh.user, 'user_deactivated');
  if (input.active === true && !current.active) {
    await tx.query('UPDATE scim_users SET active = true, updated_at = now() WHERE domain_id = $1 AND user_id = $2', [domain.id, current.user.id]);
    await joinOrganization(tx, organization, fresh.user);
  }
  return getScimUser(tx, domain, id);
}

/** DELETE: the membership, sessions and keys go as with `active: false`, and the SCIM link is removed. The account stays. */
export async function deleteScimUser(tx: Queryable, domain: DomainRecord, id: string): Promise<void> {
  const organization = await lockOrganization(tx, domain.organization_id);
  const current = await getScimUser(tx, domain, id, true);
  await assertUnderScimCeiling(tx, organization, domain, current.user.id);
  await deactivate(tx, organization, domain, current.user, 'user_deprovisioned');
  await tx.query('DELETE FROM scim_users WHERE domain_id = $1 AND user_id = $2', [domain.id, current.user.id]);
}

/** Names and email, each change in one `user_updated` entry. */
async function updateUserFields(tx: Queryable, organization: OrganizationRecord, domain: DomainRecord, user: UserRecord, input: ScimUserInput): Promise<void> {
  const next = { email: input.userName, first_name: input.givenName, last_name: input.familyName };
  const changes: Change[] = [];
  for (const field of ['email', 'first_name', 'last_name'] as const) {
    if (user[field] !== next[field]) changes.push({ type: 'User', action: 'changed', field, before: user[field], after: next[field] });
  }
  if (changes.length === 0) return;
  await tx.query('UPDATE users SET email = $2, first_name = $3, last_name = $4 WHERE id = $1', [user.id, next.email, next.first_name, next.last_name]);
  await recordActivity(tx, {
    organizationId: organization.id,
    actor: systemActor,
    scope: 'Organization',
    activity: 'user_updated',
    itemId: user.uuid,
    detail: { name: next.email, changes, context: scimContext(domain, { user_id: user.id, user_uuid: user.uuid }) },
  });
}

/** Adds the user to the organization at Member (a member already keeps their level). */
async function joinOrganization(tx: Queryable, organization: OrganizationRecord, user: UserRecord): Promise<void> {
  if (await findMembership(tx, organization.id, user.id)) return;
  await addMembership(tx, systemActor, organization, user, OrganizationLevel.MEMBER, 'scim');
  if (!user.current_organization_id) {
    const [project] = await tx.query<{ id: number }>('SELECT id FROM projects WHERE organization_id = $1 AND access_control = false ORDER BY id LIMIT 1', [
      organization.id,
    ]);
    await setCurrentContext(tx, user.id, organization.id, project?.id ?? null);
  }
}

export const SCIM_ABOVE_CEILING = "This SCIM token cannot change a member whose level is above its issuer's.";

/** The most a domain's SCIM token may touch or give: its issuer's level (an Admin's for tokens issued before it was recorded). */
export const scimCeiling = (domain: DomainRecord): number => domain.scim_token_issuer_level ?? OrganizationLevel.ADMIN;

export async function assertUnderScimCeiling(tx: Queryable, organization: OrganizationRecord, domain: DomainRecord, userId: number): Promise<void> {
  const membership = await findMembership(tx, organization.id, userId);
  if (membership && targetBreach(scimCeiling(domain), membership.level)) throw new ScimError(403, SCIM_ABOVE_CEILING);
}

/**
 * Deprovisioning from this organization only: the personal API keys that reach no other
 * organization of the user are deleted and, when the user belongs to no other organization, every
 * session ends (the next request with either is refused); then the membership goes. Keys and
 * sessions the user needs for another organization stay: without the membership they no longer
 * reach this one. An organization's last owner is never removed: the request is refused and
 * nothing changes.
 */
async function deactivate(
  tx: Queryable,
  organization: OrganizationRecord,
  domain: DomainRecord,
  user: UserRecord,
  activity: 'user_deactivated' | 'user_deprovisioned',
): Promise<void> {
  const membership = await findMembership(tx, organization.id, user.id);
  if (membership && (await isOnlyOwner(tx, membership))) throw new ScimError(400, LAST_OWNER, 'mutability');
  const inAnotherOrganization =
    (await tx.query('SELECT 1 FROM organization_memberships WHERE user_id = $1 AND organization_id <> $2 LIMIT 1', [user.id, organization.id])).length > 0;
  const projectIds = (await tx.query<{ id: number }>('SELECT id FROM projects WHERE organization_id = $1', [organization.id])).map((p) => p.id);
  // Keys first, while the user still belongs to the organization: their deletion is logged there too.
  const keys = (await listApiKeys(tx, user.id)).filter((key) => !inAnotherOrganization || keyReachesOnly(key, organization.id, projectIds));
  for (const key of keys) await deleteApiKey(tx, systemActor, user, key.id);
  const [sessions] = inAnotherOrganization
    ? [{ n: 0 }]
    : await tx.query<{ n: number }>('WITH gone AS (DELETE FROM sessions WHERE user_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone', [user.id]);
  if (membership) await deleteMembership(tx, systemActor, organization, { ...membership, user }, 'member_removed');
  await tx.query('UPDATE scim_users SET active = false, updated_at = now() WHERE domain_id = $1 AND user_id = $2', [domain.id, user.id]);
  await recordActivity(tx, {
    organizationId: organization.id,
    actor: systemActor,
    scope: 'Organization',
    activity,
    itemId: user.uuid,
    detail: {
      name: user.email,
      changes: [{ type: 'ScimUser', action: activity === 'user_deprovisioned' ? 'deleted' : 'changed', field: 'active', before: true, after: false }],
      context: membershipContext(organization, user, membership?.level ?? OrganizationLevel.MEMBER, {
        ...scimContext(domain),
        membership_removed: membership !== undefined,
        sessions_ended: sessions?.n ?? 0,
        api_keys_deleted: keys.map((k) => ({ id: k.id, mask_value: k.mask_value })),
      }),
    },
  });
}

/** A key confined to this organization, or to projects of it only. */
function keyReachesOnly(key: PersonalApiKeyRecord, organizationId: string, projectIds: readonly number[]): boolean {
  if (key.scoped_organizations?.length) return key.scoped_organizations.every((id) => id === organizationId);
  if (key.scoped_teams?.length) return key.scoped_teams.every((id) => projectIds.includes(id));
  return false;
}
