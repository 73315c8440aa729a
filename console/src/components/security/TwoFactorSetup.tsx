import { useState, type FormEvent } from 'react';
import { get, post } from '../../api/client';
import { ErrorMessage } from '../ErrorMessage';
import { TextField } from '../Field';
import { useAction, useLoad } from '../useLoad';

interface Status {
  is_enabled: boolean;
  backup_codes_remaining: number;
}
interface Started {
  secret: string;
  qr_code: string;
}

/** TOTP: set up with a QR code and a confirmation code; backup codes shown once; disable with a fresh code. */
export function TwoFactorSetup({ onChange }: { onChange?: () => void }) {
  const status = useLoad(() => get<Status>('/api/users/@me/two_factor_status/'), []);
  const action = useAction();
  const [started, setStarted] = useState<Started | null>(null);
  const [code, setCode] = useState('');
  const [backupCodes, setBackupCodes] = useState<string[] | null>(null);

  const start = () => void action.run(async () => setStarted(await post<Started>('/api/users/@me/start_2fa_setup/')));
  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await action.run(async () => {
      const res = await post<{ backup_codes: string[] }>('/api/users/@me/two_factor_validate/', { token: code });
      setBackupCodes(res.backup_codes);
    }, 'Two-factor authentication is on.');
    if (ok) {
      setStarted(null);
      setCode('');
      await status.reload();
      onChange?.();
    }
  };
  const disable = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await action.run(() => post('/api/users/@me/two_factor_disable/', { token: code }), 'Two-factor authentication is off.');
    if (ok) {
      setCode('');
      await status.reload();
    }
  };

  return (
    <section className="card" aria-labelledby="totp-heading">
      <h2 id="totp-heading">Authenticator app</h2>
      <ErrorMessage error={action.error ?? status.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      {backupCodes ? (
        <div role="region" aria-label="Backup codes">
          <p>Keep these backup codes somewhere safe. Each works once; they are not shown again.</p>
          <ul className="backup-codes">
            {backupCodes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setBackupCodes(null)}>
            Done
          </button>
        </div>
      ) : null}
      {status.data?.is_enabled ? (
        <form onSubmit={(e) => void disable(e)} aria-label="Turn off two-factor authentication">
          <p>On. {status.data.backup_codes_remaining} backup codes left.</p>
          <TextField
            label="Code to turn it off"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          <button type="submit" disabled={action.busy}>
            Turn off
          </button>
        </form>
      ) : started ? (
        <form onSubmit={(e) => void confirm(e)} aria-label="Confirm two-factor authentication">
          <p>Scan this code with your authenticator app, or enter the key by hand, then type the code it shows.</p>
          <img src={started.qr_code} alt="QR code for your authenticator app" width={200} height={200} />
          <p>
            Key: <code>{started.secret}</code>
          </p>
          <TextField
            label="Code from the app"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
          <button type="submit" disabled={action.busy}>
            Confirm
          </button>
        </form>
      ) : status.data ? (
        <>
          <p>Off. Codes from an authenticator app protect your account if your password leaks.</p>
          <button type="button" onClick={start} disabled={action.busy}>
            Set up an authenticator app
          </button>
        </>
      ) : null}
    </section>
  );
}
