import { lifetimeOverPolicyMessage, rangesRequiredMessage } from './messages.js';
import { ALL_SCOPES, scopesGrant, type ScopeAction, type ScopeObject } from './scopes.js';

/**
 * An organization's policy for its members' personal API keys: the scopes they may carry and use
 * (an IAM-style permission boundary) and the longest a key may live. null = no limit.
 */
export interface KeyPolicy {
  organizationName: string;
  allowedScopes: readonly string[] | null;
  maxLifetimeDays: number | null;
  /** Every key that reaches the organization must carry address ranges (src/access/key-networks.ts). */
  requireIpRanges?: boolean;
}

const DAY_MS = 24 * 3600 * 1000;

/** The requested scopes the policy does not allow (`*` only under a `*` boundary). */
export function scopesOutsidePolicy(requested: readonly string[], allowed: readonly string[] | null): string[] {
  if (allowed === null) return [];
  return requested.filter((scope) => {
    if (scope === ALL_SCOPES) return !allowed.includes(ALL_SCOPES);
    const [object, action] = scope.split(':') as [ScopeObject, ScopeAction];
    return !scopesGrant(allowed, object, action);
  });
}

/** May a key use `object:action` in this organization? */
export function policyAllowsUse(policy: KeyPolicy, object: ScopeObject, action: ScopeAction): boolean {
  return policy.allowedScopes === null || scopesGrant(policy.allowedScopes, object, action);
}

/** The latest moment a key created at `createdAt` may be used under the policy; null = no limit. */
export function policyDeadline(policy: Pick<KeyPolicy, 'maxLifetimeDays'>, createdAt: Date): Date | null {
  return policy.maxLifetimeDays === null ? null : new Date(createdAt.getTime() + policy.maxLifetimeDays * DAY_MS);
}

/**
 * The expiry a new key gets: the requested one, or the policy's deadline when none was asked for.
 * Returns an error message when the request exceeds the policy.
 */
export function expiryUnderPolicy(policy: KeyPolicy, now: Date, requested: Date | null): { expiresAt: Date | null } | { error: string } {
  const deadline = policyDeadline(policy, now);
  if (deadline === null) return { expiresAt: requested };
  if (requested === null) return { expiresAt: deadline };
  if (requested.getTime() > deadline.getTime()) {
    return { error: lifetimeOverPolicyMessage(policy.organizationName, policy.maxLifetimeDays) };
  }
  return { expiresAt: requested };
}

/**
 * An organization that requires ranges: a key without any is refused. Creating or widening one is a
 * 400 (nothing is made); a key made before the requirement was switched on is refused at use (403,
 * the same sentence), so switching it on takes effect at once, on every node, without touching keys.
 */
export function rangesRefusal(policy: Pick<KeyPolicy, 'organizationName' | 'requireIpRanges'>, hasRanges: boolean): string | null {
  return policy.requireIpRanges === true && !hasRanges ? rangesRequiredMessage(policy.organizationName) : null;
}
