/**
 * Keys bound to networks and rates (issue 25, part 4): a personal API key (a person's or a service
 * account's) may carry the address ranges it may be used from (CIDR, IPv4 and IPv6, stored in
 * canonical form; null = anywhere) and a limit of requests per minute (null = none); an
 * organization may require ranges on every key that reaches it. Both tables are already watched by
 * migration 0010's triggers (`key:<id>`, `org:<id>`), so a change reaches every node's access cache.
 */
export const sql = `
ALTER TABLE personal_api_keys
  ADD COLUMN allowed_ips text[],
  ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute IS NULL OR rate_limit_per_minute BETWEEN 1 AND 1000000);
ALTER TABLE organizations ADD COLUMN require_key_ip_ranges boolean NOT NULL DEFAULT false;
`;
