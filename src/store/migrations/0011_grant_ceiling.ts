/**
 * The grant ceiling (src/access/grant-ceiling.ts) for standing grants, and domain claims that block
 * nobody until they are verified:
 * - an SSO group mapping records the level of the admin who saved it; at each login it changes no
 *   one above that level and gives no level above it. Mappings saved before this migration count
 *   as an Admin's (the least level that could save one): an owner-level mapping must be saved again
 *   by an owner to keep making owners.
 * - a domain's SCIM token records its issuer's level, the most that the token may touch or give;
 *   tokens issued before count as an Admin's.
 * - an email domain is exclusive to one organization only once verified there; unverified claims
 *   may coexist (one per organization).
 */
export const sql = `
ALTER TABLE sso_group_mappings ADD COLUMN created_by_level smallint NOT NULL DEFAULT 8 CHECK (created_by_level IN (1, 8, 15));
ALTER TABLE sso_group_mappings ALTER COLUMN created_by_level DROP DEFAULT;

ALTER TABLE organization_domains ADD COLUMN scim_token_issuer_level smallint CHECK (scim_token_issuer_level IN (1, 8, 15));
UPDATE organization_domains SET scim_token_issuer_level = 8 WHERE scim_token_hash IS NOT NULL;

DROP INDEX organization_domains_domain;
CREATE UNIQUE INDEX organization_domains_verified_domain ON organization_domains (lower(domain)) WHERE verified_at IS NOT NULL;
CREATE UNIQUE INDEX organization_domains_org_domain ON organization_domains (organization_id, lower(domain));
`;
