/**
 * Enforced two-factor authentication (an organization's `enforce_2fa`): a member without a second
 * factor who signed in with a password reaches only the routes that set one up (and reads
 * themselves, and logs out) until they have one. API keys and SSO sessions are not affected.
 */
export const SECOND_FACTOR_SETUP_REQUIRED = 'Your organization requires two-factor authentication. Set up a second factor to continue.';

export type SecondFactorGate = { allow: true } | { allow: false; status: 403; code: 'two_factor_setup_required'; detail: string; reason: string };

export function secondFactorGate(setupRequired: boolean, routeServesSetup: boolean): SecondFactorGate {
  if (!setupRequired || routeServesSetup) return { allow: true };
  return {
    allow: false,
    status: 403,
    code: 'two_factor_setup_required',
    detail: SECOND_FACTOR_SETUP_REQUIRED,
    reason: 'two-factor set-up required by the organization',
  };
}
