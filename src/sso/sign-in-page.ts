import type { FastifyReply, FastifyRequest } from 'fastify';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Browsers navigating (Accept: text/html) get a page; API clients get PostHog's JSON error. */
export const wantsHtml = (request: FastifyRequest) => /\btext\/html\b/i.test(request.headers.accept ?? '');

/** Headers for every answer of a sign-in callback: nothing cached, the callback URL (with its code) never sent on. */
export function callbackHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
}

/**
 * The page a browser sees when single sign-on (SAML or OIDC) fails: a plain explanation and a way
 * back, nothing echoed unescaped, no stack trace; it runs no script and loads nothing.
 */
export function signInErrorPage(reply: FastifyReply, status: number, detail: string): FastifyReply {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in failed</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d1f27}h1{font-size:1.4rem}p{line-height:1.5}</style>
</head>
<body>
<h1>Sign-in failed</h1>
<p id="detail">${escapeHtml(detail)}</p>
<p>You have not been signed in. If this keeps happening, contact your organization's administrator.</p>
<p><a href="/">Back to the login page</a></p>
</body>
</html>
`;
  return callbackHeaders(reply)
    .code(status)
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    .header('x-content-type-options', 'nosniff')
    .type('text/html; charset=utf-8')
    .send(html);
}
