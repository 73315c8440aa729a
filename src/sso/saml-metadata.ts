import { validation } from '../domain/errors.js';

/** What Warden needs from an IdP's SAML metadata. */
export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  /** PEM certificates of the IdP's signing keys (several during a rotation). */
  certificates: string[];
}

/** Placeholder until the SAML work lands: reads an IdP's metadata XML. */
export function parseIdpMetadata(_xml: string): IdpMetadata {
  throw validation('SAML metadata is not supported yet.', 'saml_metadata_xml');
}

/** Placeholder until the SAML work lands: fetches an IdP's metadata XML. */
export async function fetchIdpMetadata(_url: string): Promise<string> {
  throw validation('SAML metadata is not supported yet.', 'saml_metadata_url');
}
