import type { Selectable } from 'kysely';
import type { DB } from '../store/schema.js';

/**
 * Rows as the store holds them; shared by the domain and the HTTP serializers. Each is the table's
 * generated type (src/store/schema.ts, from the migrations), so a column change fails the type check.
 */
export type UserRecord = Selectable<DB['users']>;

/**
 * personal_api_keys_max_lifetime_days: longest a member's key may live here (null = no limit);
 * personal_api_keys_allowed_scopes: the scopes members' keys may carry and use here (null = all);
 * default_role_id: the role JIT-provisioned members join; activity_log_retention_days: entries older
 * are pruned after a signed checkpoint (null = keep all); session_cookie_age and session_idle_timeout:
 * in seconds (null = two weeks, never).
 */
export type OrganizationRecord = Selectable<DB['organizations']>;

export type MembershipRecord = Selectable<DB['organization_memberships']>;

export type ProjectRecord = Selectable<DB['projects']>;

export type ExplicitProjectMembershipRecord = Selectable<DB['explicit_project_memberships']>;

export type InviteRecord = Selectable<DB['organization_invites']>;

export type PersonalApiKeyRecord = Selectable<DB['personal_api_keys']>;
