import { useState, type FormEvent } from 'react';
import { useSession } from '../session';
import { CheckboxField, TextField } from './Field';
import { GuardedButton } from './GuardedButton';
import { ScopePicker } from './ScopePicker';

export interface KeyDraft {
  label: string;
  scopes: string[];
  scoped_teams: number[] | null;
  expires_at: string | null;
}

/** A new key: label, scopes (grouped by object, with presets), optional projects and expiry. */
export function KeyForm({
  onCreate,
  disabledReason,
  submitLabel = 'Create key',
}: {
  onCreate(draft: KeyDraft): Promise<boolean>;
  disabledReason?: string | null;
  submitLabel?: string;
}) {
  const { organization } = useSession();
  const [label, setLabel] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const [teams, setTeams] = useState<number[]>([]);
  const [expiry, setExpiry] = useState('');
  const projects = organization?.teams ?? [];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await onCreate({
      label,
      scopes,
      scoped_teams: teams.length ? teams : null,
      // The end of the chosen day, in the browser's time zone.
      expires_at: expiry ? new Date(`${expiry}T23:59:59`).toISOString() : null,
    });
    if (ok) {
      setLabel('');
      setScopes([]);
      setTeams([]);
      setExpiry('');
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="key-form" aria-label={submitLabel}>
      <fieldset disabled={Boolean(disabledReason)} title={disabledReason ?? undefined} className="plain">
        <TextField label="Label" required maxLength={40} value={label} onChange={(e) => setLabel(e.target.value)} />
        <ScopePicker value={scopes} onChange={setScopes} allowed={organization?.personal_api_keys_allowed_scopes ?? null} />
        <fieldset>
          <legend>Projects (optional)</legend>
          <p className="hint">Leave all unchecked for every project the owner reaches.</p>
          {projects.map((p) => (
            <CheckboxField
              key={p.id}
              label={p.name}
              checked={teams.includes(p.id)}
              onChange={(e) => setTeams(e.target.checked ? [...teams, p.id] : teams.filter((t) => t !== p.id))}
            />
          ))}
        </fieldset>
        <TextField
          label="Expires on (optional)"
          type="date"
          value={expiry}
          onChange={(e) => setExpiry(e.target.value)}
          hint={
            organization?.personal_api_keys_max_lifetime_days
              ? `At most ${organization.personal_api_keys_max_lifetime_days} days in this organization.`
              : 'Empty: never.'
          }
        />
      </fieldset>
      <GuardedButton type="submit" disabledReason={disabledReason ?? (scopes.length === 0 ? 'Choose at least one scope or a preset.' : null)}>
        {submitLabel}
      </GuardedButton>
    </form>
  );
}
