/**
 * SSO: an organization's email domains (PostHog's OrganizationDomain), verified by a DNS TXT record,
 * each with at most one SAML and one OIDC identity provider, JIT provisioning, SSO enforcement and a
 * group mapping; SSO identities keyed by (domain, provider, subject) rather than by email; SAML
 * request tracking and a replay cache shared by every node; SCIM provisioning state.
 */
export const sql = `
ALTER TABLE organizations ADD COLUMN default_role_id uuid REFERENCES roles(id) ON DELETE SET NULL;

-- How a session was opened: password sessions of a domain's users end when SSO is enforced there.
ALTER TABLE sessions ADD COLUMN auth_method varchar(16) NOT NULL DEFAULT 'password';

CREATE TABLE organization_domains (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  domain          varchar(128) NOT NULL,
  verification_challenge text NOT NULL,
  verified_at     timestamptz,
  jit_provisioning_enabled boolean NOT NULL DEFAULT false,
  sso_enforcement varchar(28) NOT NULL DEFAULT '',
  -- SAML identity provider: entity id, SSO URL (PostHog calls it saml_acs_url) and one or more
  -- PEM certificates (several during a rotation), or a metadata URL/XML they were read from.
  saml_entity_id  text,
  saml_acs_url    text,
  saml_x509_cert  text,
  saml_metadata_url text,
  saml_idp_initiated_enabled boolean NOT NULL DEFAULT false,
  -- OIDC identity provider (authorization code + PKCE).
  oidc_issuer     text,
  oidc_client_id  text,
  oidc_client_secret text,
  -- Group mapping: the assertion attribute / claim that carries the user's groups.
  group_attribute text NOT NULL DEFAULT 'groups',
  -- SCIM: one bearer token per domain, stored only as a hash.
  scim_enabled    boolean NOT NULL DEFAULT false,
  scim_token_hash text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organization_domains_domain ON organization_domains (lower(domain));
CREATE INDEX organization_domains_org ON organization_domains (organization_id);

-- IdP group name -> organization level and/or role, re-applied at every SSO login.
CREATE TABLE sso_group_mappings (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  domain_id       uuid NOT NULL REFERENCES organization_domains(id) ON DELETE CASCADE,
  group_name      varchar(400) NOT NULL,
  level           smallint CHECK (level IN (1, 8, 15)),
  role_id         uuid REFERENCES roles(id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (level IS NOT NULL OR role_id IS NOT NULL)
);
CREATE UNIQUE INDEX sso_group_mappings_unique ON sso_group_mappings (domain_id, group_name, COALESCE(role_id::text, ''), COALESCE(level, 0));

-- A user as an identity provider knows them (ASVS 6.8.1: (IdP, subject), never the email alone).
CREATE TABLE sso_identities (
  domain_id       uuid NOT NULL REFERENCES organization_domains(id) ON DELETE CASCADE,
  provider        varchar(16) NOT NULL CHECK (provider IN ('saml', 'oidc', 'scim')),
  subject         varchar(400) NOT NULL,
  user_id         integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_login_at   timestamptz,
  PRIMARY KEY (domain_id, provider, subject)
);
CREATE INDEX sso_identities_user ON sso_identities (user_id);

-- Requests we issued (SAML AuthnRequest ids, OIDC state + PKCE verifier), consumed once.
CREATE TABLE sso_requests (
  id              varchar(200) PRIMARY KEY,
  domain_id       uuid NOT NULL REFERENCES organization_domains(id) ON DELETE CASCADE,
  provider        varchar(16) NOT NULL,
  data            jsonb NOT NULL DEFAULT '{}',
  expires_at      timestamptz NOT NULL
);

-- Assertion ids already accepted, until they expire: shared by every node.
CREATE TABLE saml_replay_cache (
  assertion_id    varchar(400) PRIMARY KEY,
  expires_at      timestamptz NOT NULL
);
CREATE INDEX saml_replay_cache_expiry ON saml_replay_cache (expires_at);

-- SCIM: provisioned users and groups (groups are roles) of a domain, with the IdP's external ids.
CREATE TABLE scim_users (
  domain_id       uuid NOT NULL REFERENCES organization_domains(id) ON DELETE CASCADE,
  user_id         integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  external_id     varchar(400),
  active          boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (domain_id, user_id)
);
CREATE TABLE scim_groups (
  domain_id       uuid NOT NULL REFERENCES organization_domains(id) ON DELETE CASCADE,
  role_id         uuid NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  external_id     varchar(400),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (domain_id, role_id)
);
`;
