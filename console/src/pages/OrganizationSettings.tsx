import { useEffect, useState, type FormEvent } from 'react';
import { patch, post } from '../api/client';
import type { Organization } from '../api/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { CheckboxField, TextField } from '../components/Field';
import { FieldErrors } from '../components/FieldErrors';
import { ScopePicker } from '../components/ScopePicker';
import { useAction } from '../components/useLoad';
import { INSUFFICIENT_ORG_LEVEL, OrganizationLevel } from '../rules';
import { useSession } from '../session';
import { TwoFactorEnforcement } from '../components/security/TwoFactorEnforcement';

interface SettingsForm {
  name: string;
  members_can_invite: boolean;
  members_can_use_personal_api_keys: boolean;
  limitScopes: boolean;
  personal_api_keys_allowed_scopes: string[];
  personal_api_keys_max_lifetime_days: string;
  require_key_ip_ranges: boolean;
  activity_log_retention_days: string;
  production_grant_max_hours: string;
}

const formOf = (o: Organization): SettingsForm => ({
  name: o.name,
  members_can_invite: o.members_can_invite,
  members_can_use_personal_api_keys: o.members_can_use_personal_api_keys,
  limitScopes: o.personal_api_keys_allowed_scopes !== null,
  personal_api_keys_allowed_scopes: [...(o.personal_api_keys_allowed_scopes ?? [])],
  personal_api_keys_max_lifetime_days: o.personal_api_keys_max_lifetime_days?.toString() ?? '',
  require_key_ip_ranges: o.require_key_ip_ranges,
  activity_log_retention_days: o.activity_log_retention_days?.toString() ?? '',
  production_grant_max_hours: o.production_grant_max_hours?.toString() ?? '',
});

/** A whole number of days, or null for "no limit"; other text goes to the API, which says what is wrong. */
const days = (text: string): number | null => (text.trim() === '' ? null : Number(text));

/** Organization settings: name, member rights, the key policy and activity-log retention (admins). */
export function OrganizationSettings() {
  const { organization, level, reload } = useSession();
  const [form, setForm] = useState<SettingsForm | null>(organization ? formOf(organization) : null);
  const save = useAction();
  const create = useAction();
  const [newName, setNewName] = useState('');
  useEffect(() => setForm(organization ? formOf(organization) : null), [organization]);

  const readOnly = level < OrganizationLevel.ADMIN ? INSUFFICIENT_ORG_LEVEL : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!organization || !form) return;
    const ok = await save.run(
      () =>
        patch(`/api/organizations/${organization.id}/`, {
          name: form.name,
          members_can_invite: form.members_can_invite,
          members_can_use_personal_api_keys: form.members_can_use_personal_api_keys,
          personal_api_keys_allowed_scopes: form.limitScopes ? form.personal_api_keys_allowed_scopes : null,
          personal_api_keys_max_lifetime_days: days(form.personal_api_keys_max_lifetime_days),
          require_key_ip_ranges: form.require_key_ip_ranges,
          activity_log_retention_days: days(form.activity_log_retention_days),
          production_grant_max_hours: days(form.production_grant_max_hours),
        }),
      'Settings saved.',
    );
    if (ok) await reload();
  };

  const createOrganization = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await create.run(async () => {
      const created = await post<Organization>('/api/organizations/', { name: newName });
      await patch('/api/users/@me/', { set_current_organization: created.id });
    }, 'Organization created.');
    if (ok) {
      setNewName('');
      await reload();
    }
  };

  return (
    <>
      <h1>Organization settings</h1>
      {organization && form ? (
        <FieldErrors error={save.error}>
          <form onSubmit={(e) => void submit(e)} className="card" aria-labelledby="settings-heading">
            <h2 id="settings-heading">{organization.name}</h2>
            {readOnly ? (
              <p className="notice" role="note">
                Only admins and owners change these settings. {readOnly}
              </p>
            ) : null}
            <fieldset disabled={Boolean(readOnly)} title={readOnly ?? undefined} className="plain">
              <TextField label="Name" name="name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
              <CheckboxField
                label="Members can invite others"
                checked={form.members_can_invite}
                onChange={(e) => setForm({ ...form, members_can_invite: e.target.checked })}
              />
              <CheckboxField
                label="Members can use personal API keys"
                checked={form.members_can_use_personal_api_keys}
                onChange={(e) => setForm({ ...form, members_can_use_personal_api_keys: e.target.checked })}
                hint="When off, members below admin can neither create nor use keys in this organization."
              />
              <h3>Key policy</h3>
              <CheckboxField
                label="Limit the scopes members' keys may carry"
                checked={form.limitScopes}
                onChange={(e) => setForm({ ...form, limitScopes: e.target.checked })}
                hint="A permission boundary: keys can neither be created with nor use a scope outside it here."
              />
              {form.limitScopes ? (
                <ScopePicker
                  legend="Allowed scopes"
                  value={form.personal_api_keys_allowed_scopes}
                  onChange={(scopes) => setForm({ ...form, personal_api_keys_allowed_scopes: scopes })}
                />
              ) : null}
              <TextField
                label="Maximum key lifetime (days)"
                name="personal_api_keys_max_lifetime_days"
                inputMode="numeric"
                value={form.personal_api_keys_max_lifetime_days}
                onChange={(e) => setForm({ ...form, personal_api_keys_max_lifetime_days: e.target.value })}
                hint="Empty: no limit. New keys get this expiry by default."
              />
              <CheckboxField
                label="Require address ranges on every key"
                name="require_key_ip_ranges"
                checked={form.require_key_ip_ranges}
                onChange={(e) => setForm({ ...form, require_key_ip_ranges: e.target.checked })}
                hint="Keys reaching this organization must carry allowed address ranges: new keys without them are refused, and existing ones are refused at use until ranges are set."
              />
              <h3>Activity log</h3>
              <TextField
                label="Activity log retention (days)"
                name="activity_log_retention_days"
                inputMode="numeric"
                value={form.activity_log_retention_days}
                onChange={(e) => setForm({ ...form, activity_log_retention_days: e.target.value })}
                hint="Empty: keep everything. Older entries are pruned behind a signed checkpoint."
              />
              <h3>Time-bound access</h3>
              <TextField
                label="Longest grant to a production project (hours)"
                name="production_grant_max_hours"
                inputMode="numeric"
                value={form.production_grant_max_hours}
                onChange={(e) => setForm({ ...form, production_grant_max_hours: e.target.value })}
                hint="Empty: no cap. With a cap, every grant touching a production project must expire within it."
              />
              <ErrorMessage error={save.error} />
              <p role="status" className="status">
                {save.message}
              </p>
              <button type="submit" disabled={save.busy}>
                Save settings
              </button>
            </fieldset>
          </form>
        </FieldErrors>
      ) : (
        <p>You are not a member of any organization yet.</p>
      )}
      {organization ? <TwoFactorEnforcement organization={organization} readOnly={readOnly} reload={reload} /> : null}
      <form onSubmit={(e) => void createOrganization(e)} className="card" aria-labelledby="new-org-heading">
        <h2 id="new-org-heading">New organization</h2>
        <TextField label="Organization name" required value={newName} onChange={(e) => setNewName(e.target.value)} />
        <ErrorMessage error={create.error} />
        <p role="status" className="status">
          {create.message}
        </p>
        <button type="submit" disabled={create.busy}>
          Create organization
        </button>
      </form>
    </>
  );
}
