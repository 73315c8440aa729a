import { X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** A certificate's base64 body as a PEM block (64-character lines). */
export function toPem(base64Body: string): string {
  const body = base64Body.replace(/\s+/g, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * The certificates of a domain's `saml_x509_cert`: one or more PEM blocks (several during a key
 * rotation), or a single bare base64 body as some IdPs show it. Unparseable text yields none.
 */
export function splitCertificates(text: string | null | undefined): string[] {
  if (!text) return [];
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => toPem(m[1]!));
  if (blocks.length === 0 && /^[A-Za-z0-9+/=\s]+$/.test(text.trim())) blocks.push(toPem(text));
  return blocks.filter(isCertificate);
}

/** Whether a PEM text is an X.509 certificate Node can read. */
export function isCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}
