/** PostHog's JSON shapes for Warden's records. The only place that decides what a response shows. */
import { hasAllScopes } from '../domain/organizations/api-keys.js';
import { isExpired } from '../domain/organizations/invites.js';
import type { MemberRow } from '../domain/organizations/members.js';
import type { ProjectMemberRow } from '../domain/access-control/project-members.js';
import type { InviteRecord, OrganizationRecord, PersonalApiKeyRecord, ProjectRecord, UserRecord } from '../domain/records.js';

export function userBasic(user: UserRecord) {
  return {
    id: user.id,
    uuid: user.uuid,
    distinct_id: user.distinct_id,
    first_name: user.first_name,
    last_name: user.last_name,
    email: user.email,
    is_email_verified: true,
    hedgehog_config: null,
    role_at_organization: null,
    is_service_account: user.is_service_account,
  };
}

export function member(row: MemberRow) {
  return {
    id: row.id,
    user: userBasic(row.user),
    level: row.level,
    is_service_account: row.user.is_service_account,
    joined_at: row.joined_at,
    updated_at: row.updated_at,
    is_2fa_enabled: row.is_2fa_enabled ?? false,
    has_social_auth: false,
    last_login: row.user.last_login,
    expires_at: row.level_expires_at,
    reason: row.level_reason,
    level_after_expiry: row.level_after_expiry,
  };
}

export function project(p: ProjectRecord, effectiveLevel: number | null) {
  return {
    id: p.id,
    uuid: p.uuid,
    organization: p.organization_id,
    project_id: p.id,
    name: p.name,
    api_token: p.api_token,
    access_control: p.access_control,
    timezone: p.timezone,
    is_demo: p.is_demo,
    is_production: p.is_production,
    effective_membership_level: effectiveLevel,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

export function projectBasic(p: ProjectRecord & { effective_level?: number }) {
  return {
    id: p.id,
    uuid: p.uuid,
    organization: p.organization_id,
    name: p.name,
    api_token: p.api_token,
    access_control: p.access_control,
    effective_membership_level: p.effective_level ?? null,
  };
}

export function organization(
  org: OrganizationRecord,
  facts: {
    level: number;
    memberCount: number;
    projects: Array<ProjectRecord & { effective_level: number }>;
    /** The provider a verified domain of the organization enforces, or null. */
    ssoEnforcement: string | null;
    /** Members without a second factor (the console's enforcement switch shows it). */
    membersWithout2fa?: number;
  },
) {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    logo_media_id: null,
    created_at: org.created_at,
    updated_at: org.updated_at,
    membership_level: facts.level,
    plugins_access_level: 0,
    teams: facts.projects.map(projectBasic),
    projects: facts.projects.map((p) => ({ id: p.id, name: p.name, organization_id: p.organization_id })),
    available_product_features: [],
    is_member_join_email_enabled: org.is_member_join_email_enabled,
    metadata: {},
    customer_id: null,
    enforce_2fa: org.enforce_2fa,
    members_can_invite: org.members_can_invite,
    members_can_use_personal_api_keys: org.members_can_use_personal_api_keys,
    allow_publicly_shared_resources: org.allow_publicly_shared_resources,
    personal_api_keys_max_lifetime_days: org.personal_api_keys_max_lifetime_days,
    require_key_ip_ranges: org.require_key_ip_ranges,
    personal_api_keys_allowed_scopes: org.personal_api_keys_allowed_scopes,
    activity_log_retention_days: org.activity_log_retention_days,
    log_sensitive_reads: org.log_sensitive_reads,
    member_count: facts.memberCount,
    is_ai_data_processing_approved: null,
    default_experiment_stats_method: 'bayesian',
    default_role_id: org.default_role_id,
    session_cookie_age: org.session_cookie_age,
    session_idle_timeout: org.session_idle_timeout,
    production_grant_max_hours: org.production_grant_max_hours,
    members_without_2fa: facts.membersWithout2fa ?? null,
    // The source document's fields (PostHog keeps SSO per domain and says member_count).
    enforce_sso: facts.ssoEnforcement !== null,
    saml_enforcement: facts.ssoEnforcement,
    membership_count: facts.memberCount,
  };
}

/** `emailing`: whether invites are emailed (SMTP is configured); PostHog's `emailing_attempt_made`. */
export function invite(i: InviteRecord, createdBy: UserRecord | null, emailing = false) {
  return {
    id: i.id,
    target_email: i.target_email,
    first_name: i.first_name,
    emailing_attempt_made: emailing,
    level: i.level,
    is_expired: isExpired(i),
    created_by: createdBy ? userBasic(createdBy) : null,
    created_at: i.created_at,
    updated_at: i.updated_at,
    expires_at: i.expires_at,
    message: i.message,
    private_project_access: [],
  };
}

export function apiKey(k: PersonalApiKeyRecord, value: string | null = null) {
  return {
    id: k.id,
    label: k.label,
    value,
    mask_value: k.mask_value,
    created_at: k.created_at,
    last_used_at: k.last_used_at,
    last_rolled_at: k.last_rolled_at,
    expires_at: k.expires_at,
    user_id: k.user_id,
    scopes: k.scopes.length === 0 || hasAllScopes(k) ? ['*'] : k.scopes,
    scoped_teams: k.scoped_teams ?? [],
    scoped_organizations: k.scoped_organizations ?? [],
    allowed_ips: k.allowed_ips,
    rate_limit_per_minute: k.rate_limit_per_minute,
  };
}

/** The source document's `/api/projects/:id/members/` entry. */
export function projectMember(row: ProjectMemberRow) {
  return {
    id: row.id,
    user: userBasic(row.user),
    level: row.level,
    parent_level: row.parent_level,
    effective_level: Math.max(row.level, row.parent_level),
    joined_at: row.joined_at,
    updated_at: row.updated_at,
    expires_at: row.expires_at,
    reason: row.reason,
  };
}

/** PostHog's `/api/projects/:id/explicit_members/` entry. */
export function explicitMember(row: ProjectMemberRow) {
  return { ...projectMember(row), parent_membership_id: row.parent_membership_id };
}
