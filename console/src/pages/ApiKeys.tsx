import { useState } from 'react';
import { del, get, patch, post } from '../api/client';
import type { ApiKey } from '../api/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { KeyForm, type KeyDraft } from '../components/KeyForm';
import type { NetworksChange } from '../components/KeyNetworksEditor';
import { KeyTable } from '../components/KeyTable';
import { SecretOnce } from '../components/SecretOnce';
import { useAction, useLoad } from '../components/useLoad';
import { keysDisallowedMessage, OrganizationLevel } from '../rules';
import { useSession } from '../session';

/** The signed-in user's personal API keys: create (value shown once), roll, delete. */
export function ApiKeys() {
  const { organization, level } = useSession();
  const keys = useLoad(() => get<ApiKey[]>('/api/personal_api_keys/'), []);
  const action = useAction();
  const [secret, setSecret] = useState<{ label: string; value: string } | null>(null);
  const denial =
    organization && !organization.members_can_use_personal_api_keys && level < OrganizationLevel.ADMIN ? keysDisallowedMessage(organization.name) : null;

  const create = (draft: KeyDraft) =>
    action.run(async () => {
      const key = await post<ApiKey>('/api/personal_api_keys/', draft);
      setSecret({ label: `Key “${key.label}”`, value: key.value ?? '' });
      await keys.reload();
    }, 'Key created.');

  const roll = (k: ApiKey) =>
    void action.run(async () => {
      const rolled = await post<ApiKey>(`/api/personal_api_keys/${k.id}/roll/`);
      setSecret({ label: `New value of “${rolled.label}”`, value: rolled.value ?? '' });
      await keys.reload();
    }, `Key ${k.label} rolled: the old value no longer works.`);

  const saveNetworks = (k: ApiKey, change: NetworksChange) =>
    action.run(async () => {
      await patch<ApiKey>(`/api/personal_api_keys/${k.id}/`, change);
      await keys.reload();
    }, `Networks of ${k.label} saved.`);

  const remove = (k: ApiKey) =>
    void action.run(async () => {
      await del(`/api/personal_api_keys/${k.id}/`);
      await keys.reload();
    }, `Key ${k.label} deleted.`);

  return (
    <>
      <h1>Personal API keys</h1>
      <p>Keys act as you, narrowed by their scopes and projects. Their value is shown once.</p>
      <ErrorMessage error={action.error ?? keys.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      {secret ? <SecretOnce label={secret.label} value={secret.value} onDone={() => setSecret(null)} /> : null}
      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading">Your keys</h2>
        <KeyTable keys={keys.data ?? []} onRoll={roll} onDelete={remove} onSaveNetworks={saveNetworks} caption="Your personal API keys" />
      </section>
      <section aria-labelledby="new-key-heading" className="card">
        <h2 id="new-key-heading">New key</h2>
        <KeyForm onCreate={create} disabledReason={denial} />
      </section>
    </>
  );
}
