import { sql as core } from './0001_core.js';
import { sql as serviceAccountsKeyPolicy } from './0002_service_accounts_key_policy.js';
import { sql as resourcesRoles } from './0003_resources_roles.js';
import { sql as eventsIngestion } from './0004_events_ingestion.js';
import { sql as activityChain } from './0005_activity_chain.js';
import { sql as securityEvents } from './0006_security_events.js';
import { sql as activityStreamingRetention } from './0007_activity_streaming_retention.js';
import { sql as sso } from './0008_sso.js';
import { sql as rateLimits } from './0009_rate_limits.js';
import { sql as cacheInvalidation } from './0010_cache_invalidation.js';
import { sql as grantCeiling } from './0011_grant_ceiling.js';
import { sql as samlSha1OptIn } from './0012_saml_sha1_opt_in.js';
import { sql as signInSecurity } from './0013_sign_in_security.js';
import { sql as approvalPolicies } from './0014_approval_policies.js';
import { sql as timeBoundGrants } from './0015_time_bound_grants.js';
import { sql as accessReviews } from './0017_access_reviews.js';
import { sql as accessRequests } from './0016_access_requests.js';
import { sql as keyNetworks } from './0018_key_networks.js';

/** Every migration, in the order it is applied. Never edit one that has shipped: add a new one. */
export const migrations: ReadonlyArray<{ name: string; sql: string }> = [
  { name: '0001_core', sql: core },
  { name: '0002_service_accounts_key_policy', sql: serviceAccountsKeyPolicy },
  { name: '0003_resources_roles', sql: resourcesRoles },
  { name: '0004_events_ingestion', sql: eventsIngestion },
  { name: '0005_activity_chain', sql: activityChain },
  { name: '0006_security_events', sql: securityEvents },
  { name: '0007_activity_streaming_retention', sql: activityStreamingRetention },
  { name: '0008_sso', sql: sso },
  { name: '0009_rate_limits', sql: rateLimits },
  { name: '0010_cache_invalidation', sql: cacheInvalidation },
  { name: '0011_grant_ceiling', sql: grantCeiling },
  { name: '0012_saml_sha1_opt_in', sql: samlSha1OptIn },
  { name: '0013_sign_in_security', sql: signInSecurity },
  { name: '0014_approval_policies', sql: approvalPolicies },
  { name: '0015_time_bound_grants', sql: timeBoundGrants },
  { name: '0017_access_reviews', sql: accessReviews },
  { name: '0016_access_requests', sql: accessRequests },
  { name: '0018_key_networks', sql: keyNetworks },
];
