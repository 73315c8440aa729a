/**
 * SHA-1 SAML signatures and digests are refused unless a domain opts in (for IdPs that cannot
 * sign with SHA-256 or better).
 */
export const sql = `
ALTER TABLE organization_domains ADD COLUMN saml_allow_sha1 boolean NOT NULL DEFAULT false;
`;
