import { readThrough } from '../../cache/read-through.js';
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../store/database.js';
import { pgErrorCode, PgCode } from '../../store/database.js';
import { validation } from '../errors.js';
import { qb, row } from '../../store/query-builder.js';
import type { UserRecord } from '../records.js';

// A pragmatic address check: one @, no spaces, a dot in the domain. The mail server has the last word.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_EMAIL_LENGTH = 254;

export function normalizeEmail(email: string, attr = 'email'): string {
  const trimmed = email.trim();
  if (trimmed.length > MAX_EMAIL_LENGTH || !EMAIL.test(trimmed)) throw validation('Enter a valid email address.', attr);
  return trimmed;
}

export function emailDomain(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

export async function findUserById(q: Queryable, id: number): Promise<UserRecord | undefined> {
  return readThrough(
    q,
    'user',
    String(id),
    () => row(q, qb.selectFrom('users').selectAll().where('id', '=', id)),
    () => [`user:${id}`],
  );
}

export async function findUserByUuid(q: Queryable, uuid: string): Promise<UserRecord | undefined> {
  if (!isUuid(uuid)) return undefined;
  return row(q, qb.selectFrom('users').selectAll().where('uuid', '=', uuid));
}

export async function findUserByEmail(q: Queryable, email: string): Promise<UserRecord | undefined> {
  return row(
    q,
    qb
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['email']), '=', eb.fn('lower', [eb.val(email)]))),
  );
}

export async function countUsers(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  return row?.n ?? 0;
}

export interface NewUser {
  email: string;
  firstName: string;
  lastName?: string;
  passwordHash: string | null;
}

export async function insertUser(tx: Queryable, user: NewUser): Promise<UserRecord> {
  try {
    const [row] = await tx.query<UserRecord>(
      `INSERT INTO users (distinct_id, email, first_name, last_name, password_hash)
       VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [randomUUID(), user.email, user.firstName, user.lastName ?? '', user.passwordHash],
    );
    return row!;
  } catch (err) {
    if (pgErrorCode(err) === PgCode.uniqueViolation) {
      throw validation('There is already an account with this email address.', 'email', 'unique');
    }
    throw err;
  }
}

export async function setCurrentContext(tx: Queryable, userId: number, organizationId: string | null, projectId: number | null): Promise<void> {
  await tx.query('UPDATE users SET current_organization_id = $2, current_project_id = $3 WHERE id = $1', [userId, organizationId, projectId]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

export function displayName(user: Pick<UserRecord, 'first_name' | 'last_name' | 'email'>): string {
  return [user.first_name, user.last_name].filter(Boolean).join(' ') || user.email;
}
