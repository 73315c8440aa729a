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
  /** Address ranges (CIDR or addresses) the key may be used from; null = anywhere (docs/key-networks.md). */
  allowed_ips: string[] | null;
  rate_limit_per_minute: number | null;
}

/** The ranges typed in one field, separated by commas, spaces or new lines; none = anywhere. */
export const parseRanges = (text: string): string[] | null => {
  const ranges = text.split(/[\s,]+/).filter(Boolean);
  return ranges.length ? ranges : null;
};

/** A new key: label, scopes (grouped by object, with presets), optional projects, expiry, address ranges and rate. */
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
  const [ranges, setRanges] = useState('');
  const [rate, setRate] = useState('');
  const projects = organization?.teams ?? [];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await onCreate({
      label,
      scopes,
      scoped_teams: teams.length ? teams : null,
      // The end of the chosen day, in the browser's time zone.
      expires_at: expiry ? new Date(`${expiry}T23:59:59`).toISOString() : null,
      allowed_ips: parseRanges(ranges),
      rate_limit_per_minute: rate.trim() ? Number(rate) : null,
    });
    if (ok) {
      setLabel('');
      setScopes([]);
      setTeams([]);
      setExpiry('');
      setRanges('');
      setRate('');
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
        <TextField
          label={organization?.require_key_ip_ranges ? 'Allowed address ranges (required here)' : 'Allowed address ranges (optional)'}
          name="allowed_ips"
          placeholder="203.0.113.0/24, 2001:db8::/32"
          value={ranges}
          required={organization?.require_key_ip_ranges === true}
          onChange={(e) => setRanges(e.target.value)}
          hint={
            organization?.require_key_ip_ranges
              ? `${organization.name} requires keys to be restricted to address ranges. CIDR or single addresses, separated by commas.`
              : 'CIDR (IPv4 or IPv6) or single addresses, separated by commas. Empty: anywhere.'
          }
        />
        <TextField
          label="Rate limit (requests per minute, optional)"
          name="rate_limit_per_minute"
          type="number"
          min={1}
          max={1000000}
          value={rate}
          onChange={(e) => setRate(e.target.value)}
          hint="Empty: no limit. Over it, requests are answered 429."
        />
      </fieldset>
      <GuardedButton type="submit" disabledReason={disabledReason ?? (scopes.length === 0 ? 'Choose at least one scope or a preset.' : null)}>
        {submitLabel}
      </GuardedButton>
    </form>
  );
}
