/** Rows as the store holds them; shared by the domain and the HTTP serializers. */
export interface UserRecord {
  id: number;
  uuid: string;
  distinct_id: string;
  email: string;
  first_name: string;
  last_name: string;
  password_hash: string | null;
  is_active: boolean;
  is_staff: boolean;
  current_organization_id: string | null;
  current_project_id: number | null;
  last_login: Date | null;
  date_joined: Date;
  is_service_account: boolean;
  service_account_organization_id: string | null;
  created_by_id: number | null;
}

export interface OrganizationRecord {
  id: string;
  name: string;
  slug: string;
  members_can_invite: boolean;
  members_can_use_personal_api_keys: boolean;
  enforce_2fa: boolean | null;
  is_member_join_email_enabled: boolean;
  allow_publicly_shared_resources: boolean;
  /** Longest a member's personal API key may live in this organization; null = no limit. */
  personal_api_keys_max_lifetime_days: number | null;
  /** The scopes members' keys may carry and use here (an IAM-style boundary); null = all. */
  personal_api_keys_allowed_scopes: string[] | null;
  /** The role JIT-provisioned members join (PostHog's default_role); null = none. */
  default_role_id: string | null;
  /** Activity-log entries older than this many days are pruned (after a signed checkpoint); null = keep all. */
  activity_log_retention_days: number | null;
  /** Record views of session recordings and event exports in the activity log. */
  log_sensitive_reads: boolean;
  /** Longest a session lives, in seconds (PostHog's field); null = two weeks. */
  session_cookie_age: number | null;
  /** A session unused this many seconds ends; null = never. */
  session_idle_timeout: number | null;
  created_at: Date;
  updated_at: Date;
}

export interface MembershipRecord {
  id: string;
  organization_id: string;
  user_id: number;
  level: number;
  joined_at: Date;
  updated_at: Date;
}

export interface ProjectRecord {
  id: number;
  uuid: string;
  organization_id: string;
  name: string;
  api_token: string;
  access_control: boolean;
  timezone: string;
  is_demo: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface ExplicitProjectMembershipRecord {
  id: string;
  project_id: number;
  parent_membership_id: string;
  level: number;
  joined_at: Date;
  updated_at: Date;
}

export interface InviteRecord {
  id: string;
  organization_id: string;
  target_email: string;
  first_name: string;
  level: number;
  message: string | null;
  created_by_id: number | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
}

export interface PersonalApiKeyRecord {
  id: string;
  user_id: number;
  label: string;
  mask_value: string;
  secure_value: string;
  scopes: string[];
  scoped_teams: number[] | null;
  scoped_organizations: string[] | null;
  created_at: Date;
  last_used_at: Date | null;
  last_rolled_at: Date | null;
  expires_at: Date | null;
}
