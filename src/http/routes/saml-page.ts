import type { FastifyReply } from 'fastify';

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The page a browser sees when single sign-on fails: a plain explanation, a way back, nothing
 * from the rejected response and no stack trace. It runs no script and loads nothing.
 */
export function sendSsoErrorPage(reply: FastifyReply, status: number, message: string): FastifyReply {
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Single sign-on failed - Warden</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}p{line-height:1.5}</style>
</head>
<body>
<h1>Single sign-on failed</h1>
<p>${escapeHtml(message)}</p>
<p>You have not been signed in. If this keeps happening, contact your organization's administrator.</p>
<p><a href="/login">Back to the login page</a></p>
</body>
</html>
`;
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    .send(html);
}
