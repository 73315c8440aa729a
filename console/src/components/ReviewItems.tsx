import { useState } from 'react';
import { patch } from '../api/client';
import type { AccessReview, AccessReviewItem } from '../api/types';
import { GuardedButton } from './GuardedButton';

const KIND_LABELS: Record<string, string> = {
  organization_membership: 'Organization access',
  project_membership: 'Project membership',
  role_membership: 'Role',
  access_control: 'Access control',
  personal_api_key: 'API key',
  service_account: 'Service account',
};

const FLAG_LABELS: Record<string, string> = { left: 'left', unused_key: 'unused 90+ days' };

/** src/domain/access-reviews/access-reviews.ts NOT_REVOCABLE_HERE */
const NOT_REVOCABLE_HERE = 'Access through the organization membership is revoked in a review of the organization, not of one project.';
const CLOSED = 'This access review is closed.';
const NOT_A_REVIEWER = 'You are not a reviewer of this access review.';
/** src/access/messages.ts CEILING_MESSAGES.target_above_own_level */
const ABOVE_YOUR_LEVEL = 'You can only edit others with level lower or equal to you.';

/** The items of one review: who, what, flags, and (for its reviewers) keep or revoke with a note. */
export function ReviewItems({
  review,
  items,
  base,
  level,
  run,
}: {
  review: AccessReview;
  /** The viewer's organization level (the grant ceiling: no revoking someone above it). */
  level: number;
  items: AccessReviewItem[];
  base: string;
  run: (action: () => Promise<unknown>, success: string) => Promise<boolean>;
}) {
  const [notes, setNotes] = useState<Record<string, string>>({});
  const reason = review.status === 'closed' ? CLOSED : review.can_decide ? null : NOT_A_REVIEWER;
  const decide = (item: AccessReviewItem, decision: 'keep' | 'revoke') =>
    void run(
      () => patch(`${base}${review.id}/items/${item.id}/`, { decision, note: notes[item.id] ?? item.note }),
      `${decision === 'keep' ? 'Keep' : 'Revoke'}: ${item.access} of ${item.subject.email}.`,
    );
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Items of the review {review.name}</caption>
        <thead>
          <tr>
            <th scope="col">Person</th>
            <th scope="col">Kind</th>
            <th scope="col">Access</th>
            <th scope="col">Flags</th>
            <th scope="col">Decision</th>
            <th scope="col">Note</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id}>
              <td>{item.subject.email}</td>
              <td>{KIND_LABELS[item.kind] ?? item.kind}</td>
              <td>{item.access}</td>
              <td>
                {item.flags.map((f) => (
                  <span key={f} className="badge warn">
                    {FLAG_LABELS[f] ?? f}
                  </span>
                ))}
              </td>
              <td>
                {item.decision ?? 'undecided'}
                {item.decided_by ? ` (${item.decided_by.email})` : ''}
                {item.outcome ? ` → ${item.outcome.replace('_', ' ')}` : ''}
              </td>
              <td>
                <input
                  aria-label={`Note on ${item.access} of ${item.subject.email}`}
                  value={notes[item.id] ?? item.note}
                  disabled={Boolean(reason)}
                  onChange={(e) => setNotes({ ...notes, [item.id]: e.target.value })}
                />
              </td>
              <td className="actions">
                <GuardedButton disabledReason={reason} onClick={() => decide(item, 'keep')} aria-label={`Keep ${item.access} of ${item.subject.email}`}>
                  Keep
                </GuardedButton>
                <GuardedButton
                  className="danger"
                  disabledReason={reason ?? (item.revocable ? (item.subject.level > level ? ABOVE_YOUR_LEVEL : null) : NOT_REVOCABLE_HERE)}
                  onClick={() => decide(item, 'revoke')}
                  aria-label={`Revoke ${item.access} of ${item.subject.email}`}
                >
                  Revoke
                </GuardedButton>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
