/**
 * Security events (scope 'Security': failed logins, failed key authentications, guard denials) may
 * concern no organization at all, e.g. a login attempt for an account that does not exist.
 */
export const sql = `
ALTER TABLE activity_log DROP CONSTRAINT IF EXISTS activity_log_check;
ALTER TABLE activity_log ADD CONSTRAINT activity_log_check
  CHECK (organization_id IS NOT NULL OR team_id IS NOT NULL OR scope = 'Security');
`;
