/**
 * Sign-in security: TOTP second factors and their backup codes, logins waiting for their second
 * factor, what a session knows about itself (for the sessions list), and the organization's session
 * lifetime and idle timeout. Changes to a person's second factors and new memberships name the user
 * for the access cache (the session fact carries whether the person must still set up 2FA).
 */
export const sql = `
CREATE TABLE totp_devices (
  user_id         integer PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  secret          text NOT NULL,
  -- null while set-up waits for its confirmation code
  confirmed_at    timestamptz,
  -- the last RFC 6238 time step accepted: a code is never accepted twice
  last_used_step  bigint,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE backup_codes (
  id              bigserial PRIMARY KEY,
  user_id         integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash       text NOT NULL,
  used_at         timestamptz
);
CREATE INDEX backup_codes_user ON backup_codes (user_id);

CREATE TABLE pending_logins (
  id_hash         text PRIMARY KEY,
  user_id         integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL
);
CREATE INDEX pending_logins_user ON pending_logins (user_id);

-- passkeys (WebAuthn): a second factor and a passwordless sign-in
CREATE TABLE webauthn_credentials (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id         integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  credential_id   text NOT NULL UNIQUE,
  public_key      text NOT NULL,
  counter         bigint NOT NULL DEFAULT 0,
  transports      text[] NOT NULL DEFAULT '{}',
  name            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- single-use WebAuthn challenges: registration and second factor name their user, passwordless login none
CREATE TABLE webauthn_challenges (
  challenge       text PRIMARY KEY,
  user_id         integer REFERENCES users(id) ON DELETE CASCADE,
  purpose         varchar(16) NOT NULL,
  expires_at      timestamptz NOT NULL
);

ALTER TABLE sessions ADD COLUMN id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid();
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sessions ADD COLUMN ip_address text;
ALTER TABLE sessions ADD COLUMN user_agent text;
-- which second factor completed the login ('totp', 'backup_code', 'passkey'), null for none
ALTER TABLE sessions ADD COLUMN second_factor varchar(16);

-- seconds; null: Warden's defaults (two weeks, no idle timeout)
ALTER TABLE organizations ADD COLUMN session_cookie_age integer;
ALTER TABLE organizations ADD COLUMN session_idle_timeout integer;

CREATE TRIGGER totp_devices_cache_insert AFTER INSERT ON totp_devices
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION warden_cache_changed('user', 'user_id');
CREATE TRIGGER totp_devices_cache_update AFTER UPDATE ON totp_devices
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION warden_cache_changed('user', 'user_id');
CREATE TRIGGER totp_devices_cache_delete AFTER DELETE ON totp_devices
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION warden_cache_changed('user', 'user_id');
CREATE TRIGGER webauthn_credentials_cache_insert AFTER INSERT ON webauthn_credentials
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION warden_cache_changed('user', 'user_id');
CREATE TRIGGER webauthn_credentials_cache_delete AFTER DELETE ON webauthn_credentials
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION warden_cache_changed('user', 'user_id');
CREATE TRIGGER organization_memberships_cache_user_insert AFTER INSERT ON organization_memberships
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION warden_cache_changed('user', 'user_id');
`;

/** Tables of this migration whose writes invalidate cached facts. */
export const WATCHED_BY_SIGN_IN_SECURITY: readonly string[] = ['totp_devices', 'webauthn_credentials'];
