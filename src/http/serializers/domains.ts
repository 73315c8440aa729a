/** PostHog's OrganizationDomain shape (posthog/api/organization_domain.py), plus Warden's OIDC and mapping fields. */
import type { GroupMappingRecord } from '../../domain/sso/sso-group-mapping.js';
import { hasOidc, hasSaml, type DomainRecord } from '../../domain/sso/sso-domains.js';

/**
 * Members may see that a domain exists and how it signs in; provider configuration (certificates,
 * client ids) only reaches admins. The OIDC client secret and the SCIM token never leave.
 */
export function domain(d: DomainRecord, publicUrl: string, viewerIsAdmin: boolean) {
  const config = <T>(value: T) => (viewerIsAdmin ? value : null);
  return {
    id: d.id,
    domain: d.domain,
    is_verified: d.verified_at !== null,
    verified_at: d.verified_at,
    verification_challenge: config(d.verification_challenge),
    jit_provisioning_enabled: d.jit_provisioning_enabled,
    sso_enforcement: d.sso_enforcement,
    has_saml: hasSaml(d),
    saml_entity_id: config(d.saml_entity_id),
    saml_acs_url: config(d.saml_acs_url),
    saml_x509_cert: config(d.saml_x509_cert),
    saml_metadata_url: config(d.saml_metadata_url),
    saml_idp_initiated_enabled: d.saml_idp_initiated_enabled,
    saml_allow_sha1: d.saml_allow_sha1,
    has_oidc: hasOidc(d),
    oidc_issuer: config(d.oidc_issuer),
    oidc_client_id: config(d.oidc_client_id),
    has_oidc_client_secret: d.oidc_client_secret !== null,
    group_attribute: d.group_attribute,
    scim_enabled: d.scim_enabled,
    scim_base_url: d.scim_enabled ? `${publicUrl}/scim/v2/${d.id}` : null,
    created_at: d.created_at,
    updated_at: d.updated_at,
  };
}

export function groupMapping(m: GroupMappingRecord) {
  return { id: m.id, group_name: m.group_name, level: m.level, role_id: m.role_id, created_at: m.created_at };
}
