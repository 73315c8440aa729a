/**
 * Access reviews (issue 25, part 3): an organization admin starts a review of the organization or of
 * one project; every grant in scope is copied into an item (a snapshot: later changes do not touch
 * it); reviewers keep or revoke each item; closing applies the revocations and records the head of
 * the organization's activity-log chain, so the evidence can be tied to `warden audit verify`.
 * Neither table feeds an access decision (the revocations go through the tables that do), so no
 * cache-invalidation triggers (0010) are needed.
 */
export const sql = `
CREATE TABLE access_reviews (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id  uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  project_id       integer REFERENCES projects(id) ON DELETE CASCADE,
  name             varchar(200) NOT NULL,
  status           varchar(16) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  reviewer_ids     integer[] NOT NULL DEFAULT '{}',
  due_at           timestamptz,
  created_by_id    integer REFERENCES users(id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  closed_at        timestamptz,
  closed_by_id     integer REFERENCES users(id) ON DELETE SET NULL,
  chain_head_seq   bigint,
  chain_head_hash  text
);
-- One open review per scope (the organization, or one project): a second is refused.
CREATE UNIQUE INDEX access_reviews_one_open ON access_reviews (organization_id, COALESCE(project_id, 0)) WHERE status = 'open';
CREATE INDEX access_reviews_org ON access_reviews (organization_id, created_at);

CREATE TABLE access_review_items (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  review_id          uuid NOT NULL REFERENCES access_reviews(id) ON DELETE CASCADE,
  position           integer NOT NULL,
  kind               varchar(32) NOT NULL CHECK (kind IN ('organization_membership', 'project_membership', 'role_membership', 'access_control', 'personal_api_key', 'service_account')),
  target_id          text NOT NULL,
  project_id         integer,
  subject_user_id    integer,
  subject_uuid       text NOT NULL,
  subject_email      text NOT NULL,
  subject_is_service_account boolean NOT NULL DEFAULT false,
  subject_level      integer NOT NULL,
  access             text NOT NULL,
  detail             jsonb NOT NULL DEFAULT '{}',
  flags              text[] NOT NULL DEFAULT '{}',
  revocable          boolean NOT NULL DEFAULT true,
  decision           varchar(8) CHECK (decision IN ('keep', 'revoke')),
  note               text NOT NULL DEFAULT '',
  decided_by_id      integer REFERENCES users(id) ON DELETE SET NULL,
  decided_by_email   text,
  decided_at         timestamptz,
  outcome            varchar(16) CHECK (outcome IN ('kept', 'revoked', 'already_gone')),
  UNIQUE (review_id, position)
);
`;
