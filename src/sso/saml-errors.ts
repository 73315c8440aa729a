/** Why Warden rejected a SAML response: a short reason for the security event, a human message for the page. */
export type SamlRejection =
  | 'malformed_response'
  | 'dtd_forbidden'
  | 'multiple_roots'
  | 'too_large'
  | 'unknown_domain'
  | 'domain_not_verified'
  | 'saml_not_configured'
  | 'idp_initiated_disabled'
  | 'invalid_signature'
  | 'weak_algorithm'
  | 'in_response_to'
  | 'other_browser'
  | 'not_yet_valid'
  | 'expired'
  | 'wrong_audience'
  | 'wrong_recipient'
  | 'wrong_destination'
  | 'wrong_issuer'
  | 'subject_confirmation'
  | 'replayed_assertion'
  | 'idp_error'
  | 'missing_assertion'
  | 'missing_name_id'
  | 'unsupported_name_id'
  | 'invalid_attributes'
  | 'invalid_response';

const MESSAGES: Record<SamlRejection, string> = {
  malformed_response: 'The identity provider sent a response Warden could not read.',
  dtd_forbidden: 'The identity provider sent a response Warden could not read.',
  multiple_roots: 'The identity provider sent a response Warden could not read.',
  too_large: 'The identity provider sent a response that is too large.',
  unknown_domain: 'This single sign-on response is not for any domain configured in Warden.',
  domain_not_verified: 'The domain of this single sign-on response has not been verified.',
  saml_not_configured: 'SAML single sign-on is not configured for this domain.',
  idp_initiated_disabled: 'Sign-in started at the identity provider is not enabled for this domain. Start from the Warden login page instead.',
  invalid_signature: 'The response is not correctly signed by the identity provider configured for this domain.',
  weak_algorithm:
    'The identity provider signed the response with SHA-1, which this domain does not accept. Configure it to sign with RSA-SHA256, or ask an organization admin to allow SHA-1 for this domain.',
  in_response_to: 'This response does not answer a sign-in request Warden made, or that request was already used or has expired. Please sign in again.',
  other_browser: 'This response answers a sign-in that was started in another browser. Please sign in again from this one.',
  not_yet_valid: 'The response is not valid yet. Check that the clocks of the identity provider and Warden agree.',
  expired:
    'The response has expired or is not valid yet. Please sign in again; if this keeps happening, check that the clocks of the identity provider and Warden agree.',
  wrong_audience: 'The response was issued for a different service provider.',
  wrong_recipient: 'The response was issued for a different service provider address.',
  wrong_destination: 'The response was sent to a different service provider address.',
  wrong_issuer: 'The response was issued by a different identity provider than the one configured for this domain.',
  subject_confirmation: 'The response does not confirm the subject for this service provider.',
  replayed_assertion: 'This response has already been used. Please sign in again.',
  idp_error: 'The identity provider reported an error and did not sign you in.',
  missing_assertion: 'The identity provider did not send an assertion.',
  missing_name_id: 'The identity provider did not identify the user.',
  unsupported_name_id: 'The identity provider sent a transient NameID; configure it to send a persistent or email NameID.',
  invalid_attributes: 'The identity provider sent attributes Warden cannot use.',
  invalid_response: 'The identity provider sent a response Warden could not accept.',
};

/** A refused SAML response. `detail` is internal (security event), `message` is shown to the person. */
export class SamlRejected extends Error {
  constructor(
    readonly reason: SamlRejection,
    readonly detail: string = reason,
    readonly status: 400 | 403 = reason === 'idp_initiated_disabled' || reason === 'domain_not_verified' ? 403 : 400,
  ) {
    super(MESSAGES[reason]);
    this.name = 'SamlRejected';
  }
}

/** node-saml's error messages, mapped to a reason. Anything unrecognised is a generic invalid response. */
export function classifyNodeSamlError(message: string): SamlRejection {
  const rules: Array<[RegExp, SamlRejection]> = [
    [/SAML provider returned/i, 'idp_error'],
    [/InResponseTo/i, 'in_response_to'],
    [/not yet valid/i, 'not_yet_valid'],
    // node-saml's words when no bearer confirmation is within its NotBefore / NotOnOrAfter.
    [/No valid subject confirmation/i, 'expired'],
    [/expired/i, 'expired'],
    [/audience/i, 'wrong_audience'],
    [/subject confirmation/i, 'subject_confirmation'],
    [
      /signature|signed|transform|ID cannot refer|Referenced node|multiple assertions|SignedInfo|digest|Canonicalization|Reference|KeyInfo/i,
      'invalid_signature',
    ],
    [/Missing SAML assertion/i, 'missing_assertion'],
    [/not a valid XML|xmldom|parse|Non-whitespace|Unexpected|Unclosed|Invalid character/i, 'malformed_response'],
  ];
  return rules.find(([re]) => re.test(message))?.[1] ?? 'invalid_response';
}
