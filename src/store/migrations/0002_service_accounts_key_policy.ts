/** Service accounts (organization-owned principals) and organization key policies. */
export const sql = `
ALTER TABLE users ADD COLUMN is_service_account boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN service_account_organization_id uuid REFERENCES organizations(id) ON DELETE CASCADE;
ALTER TABLE users ADD COLUMN created_by_id integer REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE users ADD CONSTRAINT service_account_has_organization
  CHECK (NOT is_service_account OR service_account_organization_id IS NOT NULL);

ALTER TABLE organizations ADD COLUMN personal_api_keys_max_lifetime_days integer
  CHECK (personal_api_keys_max_lifetime_days IS NULL OR personal_api_keys_max_lifetime_days BETWEEN 1 AND 3650);
ALTER TABLE organizations ADD COLUMN personal_api_keys_allowed_scopes text[];
`;
