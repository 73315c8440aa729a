/** Request and response shapes of /api/organizations/ (PostHog's OrganizationSerializer). */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, JsonObject, Nullable, Paginated, ProjectBasic } from './common.js';

export const OrgParams = Type.Object({ organization_id: Type.String() });
export type OrgParams = Static<typeof OrgParams>;

export const OrgCreate = Type.Object({ name: Type.String() }, { additionalProperties: false });
export type OrgCreate = Static<typeof OrgCreate>;

export const OrgPatch = Type.Object(
  {
    name: Type.Optional(Type.String()),
    members_can_invite: Type.Optional(Type.Boolean()),
    members_can_use_personal_api_keys: Type.Optional(Type.Boolean()),
    enforce_2fa: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    is_member_join_email_enabled: Type.Optional(Type.Boolean()),
    allow_publicly_shared_resources: Type.Optional(Type.Boolean()),
    personal_api_keys_max_lifetime_days: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    personal_api_keys_allowed_scopes: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 100 }), { maxItems: 300 }), Type.Null()])),
    require_key_ip_ranges: Type.Optional(Type.Boolean()),
    activity_log_retention_days: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    log_sensitive_reads: Type.Optional(Type.Boolean()),
    default_role_id: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
    session_cookie_age: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    session_idle_timeout: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    production_grant_max_hours: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  },
  { additionalProperties: false },
);
export type OrgPatch = Static<typeof OrgPatch>;

export const Organization = Type.Object({
  id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  logo_media_id: Type.Null(),
  created_at: DateTime,
  updated_at: DateTime,
  membership_level: Type.Integer(),
  plugins_access_level: Type.Integer(),
  teams: Type.Array(ProjectBasic),
  projects: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), organization_id: Type.String() })),
  available_product_features: Type.Array(Type.Unknown()),
  is_member_join_email_enabled: Type.Boolean(),
  metadata: JsonObject,
  customer_id: Type.Null(),
  enforce_2fa: Nullable(Type.Boolean()),
  members_can_invite: Type.Boolean(),
  members_can_use_personal_api_keys: Type.Boolean(),
  allow_publicly_shared_resources: Type.Boolean(),
  personal_api_keys_max_lifetime_days: Nullable(Type.Integer()),
  personal_api_keys_allowed_scopes: Nullable(Type.Array(Type.String())),
  require_key_ip_ranges: Type.Boolean(),
  activity_log_retention_days: Nullable(Type.Integer()),
  log_sensitive_reads: Type.Boolean(),
  member_count: Type.Integer(),
  is_ai_data_processing_approved: Type.Null(),
  default_experiment_stats_method: Type.String(),
  default_role_id: Nullable(Type.String()),
  session_cookie_age: Nullable(Type.Integer()),
  session_idle_timeout: Nullable(Type.Integer()),
  /** Warden: the longest a grant touching a production project may last, in hours; null = no cap. */
  production_grant_max_hours: Nullable(Type.Integer()),
  members_without_2fa: Nullable(Type.Integer()),
  enforce_sso: Type.Boolean(),
  saml_enforcement: Nullable(Type.String()),
  membership_count: Type.Integer(),
});
export type Organization = Static<typeof Organization>;

export const OrganizationList = Paginated(Organization);
export type OrganizationList = Static<typeof OrganizationList>;
