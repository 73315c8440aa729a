import { useState, type FormEvent } from 'react';
import { get, post } from '../api/client';
import type { AccessReview, AccessReviewItem } from '../api/types';
import { ErrorMessage } from '../components/ErrorMessage';
import { CheckboxField, SelectField, TextField } from '../components/Field';
import { GuardedButton } from '../components/GuardedButton';
import { ReviewItems } from '../components/ReviewItems';
import { useAction, useLoad } from '../components/useLoad';
import { INSUFFICIENT_ORG_LEVEL, OrganizationLevel } from '../rules';
import { useSession } from '../session';

/**
 * Access reviews (docs/access-reviews.md): admins start a review of the organization or one project;
 * reviewers keep or revoke each item (flags mark people who left and keys unused for 90 days); an
 * admin closes it, which applies the revocations; the evidence downloads as CSV or JSON.
 */
export function AccessReviews() {
  const { organization, level } = useSession();
  const base = `/api/organizations/${organization?.id}/access_reviews/`;
  const reviews = useLoad(async () => (await get<{ results: AccessReview[] }>(base)).results, [base]);
  const [openId, setOpenId] = useState<string | null>(null);
  const items = useLoad(async () => (openId ? (await get<{ results: AccessReviewItem[] }>(`${base}${openId}/items/`)).results : []), [base, openId]);
  const action = useAction();
  const [form, setForm] = useState({ name: '', project: '', due: '' });
  const [force, setForce] = useState(false);
  const denial = level < OrganizationLevel.ADMIN ? INSUFFICIENT_ORG_LEVEL : null;
  const projectName = (id: number | null) => (id === null ? 'Whole organization' : (organization?.teams.find((t) => t.id === id)?.name ?? `project ${id}`));
  const current = reviews.data?.find((r) => r.id === openId) ?? null;

  const run = async (work: () => Promise<unknown>, success: string) => {
    const ok = await action.run(work, success);
    await Promise.all([reviews.reload(), items.reload()]);
    return ok;
  };

  const start = async (e: FormEvent) => {
    e.preventDefault();
    let created: AccessReview | null = null;
    const body = {
      name: form.name,
      project_id: form.project ? Number(form.project) : null,
      ...(form.due ? { due_at: new Date(`${form.due}T23:59:59`).toISOString() } : {}),
    };
    if (await run(async () => (created = await post<AccessReview>(base, body)), `Review ${form.name} started.`)) {
      setForm({ name: '', project: '', due: '' });
      setOpenId((created as AccessReview | null)?.id ?? null);
    }
  };

  const close = (review: AccessReview) =>
    void run(() => post(`${base}${review.id}/close/`, { force }), `Review ${review.name} closed: its revocations are applied.`);

  return (
    <>
      <h1>Access reviews</h1>
      <p>
        A review copies everyone's access in its scope. Reviewers keep or revoke each item; closing the review applies the revocations, and the evidence (with
        the activity-log chain's hash at closing) downloads as CSV or JSON.
      </p>
      <ErrorMessage error={action.error ?? reviews.error ?? items.error} />
      <p role="status" className="status">
        {action.message}
      </p>
      <form onSubmit={(e) => void start(e)} className="card inline-form" aria-labelledby="new-review-heading">
        <h2 id="new-review-heading">New review</h2>
        <TextField
          label="Name"
          name="name"
          required
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          disabled={Boolean(denial)}
          title={denial ?? undefined}
        />
        <SelectField
          label="Scope"
          name="project_id"
          value={form.project}
          disabledReason={denial}
          onChange={(e) => setForm({ ...form, project: e.target.value })}
        >
          <option value="">Whole organization</option>
          {organization?.teams.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Due"
          name="due_at"
          type="date"
          value={form.due}
          onChange={(e) => setForm({ ...form, due: e.target.value })}
          disabled={Boolean(denial)}
        />
        <GuardedButton type="submit" disabledReason={denial} disabled={action.busy}>
          Start review
        </GuardedButton>
      </form>
      {reviews.data && reviews.data.length === 0 ? <p>No reviews yet.</p> : null}
      {reviews.data && reviews.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Access reviews of the organization</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Status</th>
                <th scope="col">Items</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {reviews.data.map((r) => (
                <tr key={r.id}>
                  <td>{r.name}</td>
                  <td>{projectName(r.project_id)}</td>
                  <td>{r.status}</td>
                  <td>
                    {r.counts.items} ({r.counts.undecided} undecided, {r.counts.revoke} to revoke, {r.counts.flagged} flagged)
                  </td>
                  <td className="actions">
                    <button type="button" onClick={() => setOpenId(r.id)} aria-label={`Open review ${r.name}`}>
                      Open
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {current ? (
        <section aria-labelledby="review-heading">
          <h2 id="review-heading">{current.name}</h2>
          <p>
            {projectName(current.project_id)} · {current.status} · reviewers: {current.reviewers.map((r) => r.email).join(', ')}
            {current.chain_head ? ` · activity chain at closing: #${current.chain_head.chain_seq} ${current.chain_head.hash}` : ''}
          </p>
          <p className="actions">
            <a href={`${base}${current.id}/export/?format=csv`} download>
              Download evidence (CSV)
            </a>{' '}
            <a href={`${base}${current.id}/export/?format=json`} download>
              Download evidence (JSON)
            </a>
          </p>
          {current.status === 'open' ? (
            <div className="card inline-form">
              <CheckboxField label="Keep undecided items" checked={force} onChange={(e) => setForce(e.target.checked)} disabled={Boolean(denial)} />
              <GuardedButton className="danger" disabledReason={denial} onClick={() => close(current)}>
                Close review
              </GuardedButton>
            </div>
          ) : null}
          {items.data ? <ReviewItems review={current} items={items.data} base={base} level={level} run={run} /> : null}
        </section>
      ) : null}
    </>
  );
}
