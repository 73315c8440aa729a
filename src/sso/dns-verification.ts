import { Resolver } from 'node:dns/promises';
import type { TxtLookup } from '../domain/sso/organization-domains.js';

/** Errors that mean "no such record", as opposed to a resolver failure. */
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/**
 * TXT lookups for domain verification, through the configured DNS servers (or the system's).
 * A record split into several strings is joined, as DNS TXT semantics say. A missing record is an
 * empty answer; a resolver that cannot be reached is an error the caller reports.
 */
export function txtLookup(servers: readonly string[], timeoutMs = 3000): TxtLookup {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return async (name) => {
    try {
      const records = await resolver.resolveTxt(name);
      return records.map((chunks) => chunks.join(''));
    } catch (err) {
      if (NO_RECORD.has((err as NodeJS.ErrnoException).code ?? '')) return [];
      throw err;
    }
  };
}
