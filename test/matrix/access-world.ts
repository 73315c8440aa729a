/**
 * The access-control dimension's world, next to the matrix's: an open project Q in organization A,
 * a subject (a plain member in a role of their own, by session and by a `*` key), another plain
 * member, and per configuration fresh target objects with the configuration's rows written to the
 * store (the access cache hears every write through its triggers).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { Client } from '../helpers/client.js';
import { PASSWORD, uniqueEmail, type Person } from '../helpers/world.js';
import { levelFor, OBJECT_RESOURCES, type Config, type ObjectResource, type Placement } from './access-model.js';
import { createKey, type World } from './world.js';

export interface AccessWorld {
  organizationId: string;
  /** Sessions of their own for the owner and an admin (the matrix's last case logs the world's sessions out). */
  owner: Client;
  admin: Client;
  /** Another organization's owner, by a `*` key of theirs. */
  outsiderKey: Client;
  /** Whether organization A forbids member keys now. */
  forbidding: boolean;
  projectQ: number;
  subject: Person;
  subjectKey: Client;
  other: Person;
  subjectMemberId: string;
  roleId: string;
  /** An event in Q, for the events routes. */
  eventId: string;
}

/** Per configuration: the object each route reads or changes (T) and those DELETE removes, one for each asker. */
export type Targets = Record<ObjectResource, { target: string; doomed: string[]; search: string }>;
export const ASKER_SLOTS = 5;

async function login(w: World, user: 'O' | 'A' | 'X'): Promise<Client> {
  const client = new Client(w.server.url);
  const res = await client.post('/api/login/', { email: w.people[user].user.email, password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return client;
}

async function join(w: World, o: Client): Promise<Person> {
  const email = uniqueEmail('ac');
  const invite = await o.post(`/api/organizations/${w.orgA}/invites/`, { target_email: email, level: 1 });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  const client = new Client(w.server.url);
  const res = await client.post(`/api/signup/${invite.body.id}/`, { first_name: 'Ace', password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { client, user: { id: res.body.id, uuid: res.body.uuid, email } };
}

export async function buildAccessWorld(w: World): Promise<AccessWorld> {
  const o = await login(w, 'O');
  const project = await o.post(`/api/organizations/${w.orgA}/projects/`, { name: `access-${randomBytes(3).toString('hex')}` });
  expect(project.status, JSON.stringify(project.body)).toBe(201);
  const subject = await join(w, o);
  const other = await join(w, o);
  const role = await o.post(`/api/organizations/${w.orgA}/roles/`, { name: `ac-${randomBytes(3).toString('hex')}` });
  expect(role.status, JSON.stringify(role.body)).toBe(201);
  const joined = await o.post(`/api/organizations/${w.orgA}/roles/${role.body.id}/role_memberships/`, { user_uuid: subject.user.uuid });
  expect(joined.status, JSON.stringify(joined.body)).toBe(201);
  const [member] = await w.server.db.query<{ id: string }>('SELECT id::text FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
    w.orgA,
    subject.user.id,
  ]);
  const key = await createKey(subject, ['*']);
  const outsider = await createKey({ client: await login(w, 'X'), user: w.people.X.user }, ['*']);
  const eventId = randomUUID();
  await w.server.db.query(`INSERT INTO events (uuid, team_id, event, distinct_id, timestamp) VALUES ($1, $2, 'ac', 'ac', now())`, [eventId, project.body.id]);
  return {
    organizationId: w.orgA,
    owner: o,
    admin: await login(w, 'A'),
    outsiderKey: new Client(w.server.url).withKey(outsider.value),
    forbidding: false,
    projectQ: project.body.id,
    subject,
    subjectKey: new Client(w.server.url).withKey(key.value),
    other,
    subjectMemberId: member!.id,
    roleId: role.body.id,
    eventId,
  };
}

/** Fresh target objects in Q, an owner's change to each (so the activity log has an entry about it), then the configuration's rows. */
export async function applyConfig(w: World, aw: AccessWorld, config: Config): Promise<Targets> {
  const db = w.server.db;
  const q = aw.projectQ;
  const creator = config.subjectCreated ? aw.subject.user.id : w.people.O.user.id;
  await db.query('DELETE FROM access_controls WHERE team_id = $1', [q]);
  if (aw.forbidding !== Boolean(config.forbidMemberKeys)) {
    const res = await aw.owner.patch(`/api/organizations/${w.orgA}/`, { members_can_use_personal_api_keys: !config.forbidMemberKeys });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    aw.forbidding = Boolean(config.forbidMemberKeys);
  }
  const tag = randomBytes(4).toString('hex');
  const ids = async (sql: string, params: (i: number) => unknown[]) => {
    const made: string[] = [];
    for (let i = 0; i <= ASKER_SLOTS; i++) made.push(String((await db.query<{ id: string | number }>(sql, params(i)))[0]!.id));
    return [made[0]!, made.slice(1)] as const;
  };
  const [flag, flagD] = await ids(`INSERT INTO feature_flags (team_id, key, created_by_id) VALUES ($1, $2, $3) RETURNING id`, (i) => [
    q,
    `ac-${tag}-${i}`,
    creator,
  ]);
  const [insight, insightD] = await ids(`INSERT INTO insights (short_id, team_id, name, created_by_id) VALUES ($1, $2, $3, $4) RETURNING id`, (i) => [
    `${tag}${i}`,
    q,
    `ac-${tag}-${i}`,
    creator,
  ]);
  const [dashboard, dashboardD] = await ids(`INSERT INTO dashboards (team_id, name, created_by_id) VALUES ($1, $2, $3) RETURNING id`, (i) => [
    q,
    `ac-${tag}-${i}`,
    creator,
  ]);
  const [recording, recordingD] = await ids(
    `INSERT INTO session_recordings (id, team_id, distinct_id, start_time, end_time) VALUES ($1, $2, $3, now(), now()) RETURNING id`,
    (i) => [`ac-${tag}-${i}`, q, `ac-${tag}`],
  );
  const targets: Targets = {
    feature_flag: { target: flag, doomed: flagD, search: `ac-${tag}` },
    insight: { target: insight, doomed: insightD, search: `${tag}0` },
    dashboard: { target: dashboard, doomed: dashboardD, search: tag },
    session_recording: { target: recording, doomed: recordingD, search: `ac-${tag}` },
  };
  const o = aw.owner;
  for (const [path, id] of [
    ['feature_flags', flag],
    ['insights', insight],
    ['dashboards', dashboard],
  ] as const) {
    const res = await o.patch(`/api/projects/${q}/${path}/${id}/`, { name: `secret ${tag}` });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  const rows: unknown[][] = [];
  const target = (at: Placement) => (at.endsWith('-member') ? [aw.subjectMemberId, null] : at.endsWith('-role') ? [null, aw.roleId] : [null, null]);
  for (const row of config.rows) {
    for (const resource of [...OBJECT_RESOURCES, 'event', 'activity_log'] as const) {
      const objectRow = row.at.startsWith('object-');
      if (objectRow && (resource === 'event' || resource === 'activity_log')) continue;
      const objects = objectRow ? [targets[resource as ObjectResource].target, ...targets[resource as ObjectResource].doomed] : [null];
      for (const id of objects) rows.push([q, levelFor(resource, row.level), resource, id, ...target(row.at)]);
    }
  }
  for (const row of config.projectRows ?? []) {
    rows.push([
      q,
      row.level,
      'project',
      String(q),
      ...(row.at === 'member' ? [aw.subjectMemberId, null] : row.at === 'role' ? [null, aw.roleId] : [null, null]),
    ]);
  }
  if (rows.length > 0) {
    const values = rows.map((_, i) => `($${i * 6 + 1}::int, $${i * 6 + 2}, $${i * 6 + 3}, $${i * 6 + 4}, $${i * 6 + 5}::uuid, $${i * 6 + 6}::uuid)`).join(', ');
    await db.query(`INSERT INTO access_controls (team_id, access_level, resource, resource_id, organization_member_id, role_id) VALUES ${values}`, rows.flat());
  }
  return targets;
}
