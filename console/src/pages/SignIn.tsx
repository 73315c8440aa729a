import { useState, type FormEvent } from 'react';
import { ApiError, post } from '../api/client';
import { ErrorMessage } from '../components/ErrorMessage';
import { TextField } from '../components/Field';
import { useAction } from '../components/useLoad';
import { Link, navigate } from '../router';
import { useSessionState } from '../session';
import { PasskeySignIn, SecondFactorStep } from '../components/security/SecondFactorStep';

/**
 * Which provider signs this address in? Warden has no public lookup, so the console asks the sign-in
 * routes themselves without following their redirect: SAML first, then OIDC. A redirect means the
 * provider is configured for the email's verified domain; the browser then goes there for real.
 */
async function ssoStart(email: string): Promise<string> {
  const refusals: ApiError[] = [];
  for (const provider of ['saml', 'oidc']) {
    const url = `/login/${provider}/?email=${encodeURIComponent(email)}`;
    const res = await fetch(url, { redirect: 'manual', credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) return url;
    const body = (await res.json().catch(() => null)) as { code?: string; detail?: string; attr?: string | null } | null;
    const refusal = new ApiError(res.status, body?.code ?? 'error', body?.detail ?? `Single sign-on failed (${res.status}).`, body?.attr ?? null);
    // Another answer than "not configured here" (a misconfigured provider, a blank email) is the one to show.
    if (!/not_configured/.test(refusal.code)) throw refusal;
    refusals.push(refusal);
  }
  throw new ApiError(400, 'sso_not_configured', refusals.map((r) => r.detail).join(' '), 'email');
}

export function SignIn() {
  const { reload } = useSessionState();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [ssoEmail, setSsoEmail] = useState('');
  const login = useAction();
  const sso = useAction();

  const [secondStep, setSecondStep] = useState(false);
  const signedIn = async () => {
    navigate('/members', true);
    await reload();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await login.run(async () => {
      try {
        await post('/api/login/', { email, password });
      } catch (err) {
        // A second factor is set: the password was right; the second step follows.
        if (err instanceof ApiError && err.code === '2fa_required') return setSecondStep(true);
        throw err;
      }
      await signedIn();
    });
    if (!ok) setSecondStep(false);
  };

  if (secondStep) {
    return (
      <main className="center auth">
        <h1>Log in to Warden</h1>
        <SecondFactorStep onSignedIn={signedIn} />
      </main>
    );
  }

  const startSso = async (e: FormEvent) => {
    e.preventDefault();
    let target = '';
    if (await sso.run(async () => (target = await ssoStart(ssoEmail.trim())))) window.location.assign(target);
  };

  return (
    <main className="center auth">
      <h1>Log in to Warden</h1>
      <form onSubmit={(e) => void submit(e)} className="card" aria-labelledby="password-login">
        <h2 id="password-login">With your password</h2>
        <TextField label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <TextField label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <ErrorMessage error={login.error} />
        <button type="submit" disabled={login.busy}>
          Log in
        </button>
      </form>
      <PasskeySignIn onSignedIn={signedIn} />
      <form onSubmit={(e) => void startSso(e)} className="card" aria-labelledby="sso-login">
        <h2 id="sso-login">With single sign-on</h2>
        <TextField
          label="Work email"
          type="email"
          autoComplete="email"
          required
          value={ssoEmail}
          onChange={(e) => setSsoEmail(e.target.value)}
          hint="We find your identity provider from the email's domain."
        />
        <ErrorMessage error={sso.error} />
        <button type="submit" disabled={sso.busy}>
          Log in with SSO
        </button>
      </form>
      <p>
        First run? <Link to="/setup">Create the owner account</Link>
      </p>
    </main>
  );
}
