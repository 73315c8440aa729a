import type { WardenConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { markDomainVerifiedByOperator } from '../domain/sso/organization-domains.js';
import { openStore, storeOptions } from '../store/open.js';

/**
 * `warden domains verify --domain example.com [--organization ORG_ID]`: for air-gapped installs, an instance operator (who
 * runs the server, so already controls its database) marks a domain an organization added as
 * verified, without a DNS lookup. Recorded in the organization's activity log as a system action.
 */
export async function runDomains(config: WardenConfig, sub: string | undefined, flags: Record<string, string>): Promise<number> {
  if (sub !== 'verify' || !flags.domain || flags.domain === 'true') {
    console.error('warden domains: usage: warden domains verify --domain example.com [--organization ORG_ID]');
    return 2;
  }
  const db = await openStore(storeOptions(config));
  try {
    const domain = await markDomainVerifiedByOperator(db, flags.domain, flags.organization && flags.organization !== 'true' ? flags.organization : undefined);
    console.log(`${domain.domain} verified (${domain.verified_at?.toISOString()}) for organization ${domain.organization_id}.`);
    return 0;
  } catch (err) {
    if (err instanceof DomainError) {
      console.error(`warden domains verify: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await db.close();
  }
}
