/**
 * Operability through real processes: the configuration file and `warden config print`, request
 * ids (response header, JSON log lines, activity log) and graceful shutdown under load.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FLAGS } from '../../src/config.js';
import { freshInstance, REPO, serve, warden, type RunningServer } from '../helpers/cli.js';
import { Client } from '../helpers/client.js';
import { PASSWORD } from '../helpers/world.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-ops-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('configuration', () => {
  it('every setting can come from the file (the file knows every flag loadConfig reads)', () => {
    const source = ['src/config.ts', 'src/config-smtp.ts'].map((f) => readFileSync(join(REPO, f), 'utf8')).join('\n');
    const read = new Set([...source.matchAll(/pick\('([a-z-]+)'/g)].map((m) => m[1]!));
    expect([...read].sort()).toEqual([...CONFIG_FLAGS].sort());
  });

  it('`config print` shows the effective configuration: file, then environment, then flags; secrets masked', async () => {
    const config = file(
      'warden.yaml',
      'port: 9123\nlog-level: debug\ndns-servers: [10.0.0.2, "10.0.0.3:5353"]\nmetrics-token: a-very-secret-metrics-token\nopen-signup: true\n',
    );
    const result = await warden(['config', 'print', '--json', '--config', config, '--log-level', 'warn'], {
      WARDEN_PORT: '9124',
      DATABASE_URL: 'postgres://warden:hunter2hunter2@db.internal:5432/warden',
    });
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed).toMatchObject({
      port: 9124, // environment over file
      logLevel: 'warn', // flag over file
      dnsServers: ['10.0.0.2', '10.0.0.3:5353'],
      openSignup: true,
      metricsToken: '********',
      databaseUrl: 'postgres://warden:********@db.internal:5432/warden',
    });
    expect(result.stdout).not.toContain('hunter2');
    expect(result.stdout).not.toContain('a-very-secret-metrics-token');
    const text = await warden(['config', 'print', '--config', config], {});
    expect(text.stdout).toMatch(/^port\s+9123$/m);
  });

  it('a bad file or value stops with a message naming it', async () => {
    const unknown = await warden(['config', 'print', '--config', file('bad.yaml', 'prot: 80\n')], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown setting "prot"');
    const badValue = await warden(['config', 'print', '--config', file('bad2.yaml', 'port: lots\n')], {});
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain('WARDEN_PORT must be a whole number');
    const badAllow = await warden(['config', 'print', '--outbound-allow', 'idp.internal,http://x/'], {});
    expect(badAllow.code).toBe(2);
    expect(badAllow.stderr).toContain('WARDEN_OUTBOUND_ALLOW');
    const allow = await warden(['config', 'print', '--json'], { WARDEN_OUTBOUND_ALLOW: 'idp.internal, 10.0.0.0/8' });
    expect(JSON.parse(allow.stdout).outboundAllow).toEqual(['idp.internal', '10.0.0.0/8']);
    const missing = await warden(['config', 'print', '--config', join(dir, 'nope.yaml')], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the configuration file');
  });
});

describe('a running server', () => {
  let instance: Awaited<ReturnType<typeof freshInstance>>;
  let server: RunningServer;
  let key: string;
  let projectId: number;
  let organizationId: string;

  beforeAll(async () => {
    instance = await freshInstance();
    const boot = await warden(
      ['bootstrap', '--email', 'ops@example.com', '--password', PASSWORD, '--organization', 'Ops', '--json', ...instance.args],
      instance.env,
    );
    expect(boot.code, boot.stderr).toBe(0);
    ({
      personal_api_key: key,
      project: { id: projectId },
      organization: { id: organizationId },
    } = JSON.parse(boot.stdout));
    server = await serve(instance.args, { ...instance.env, WARDEN_LOG_LEVEL: 'info' });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await instance?.cleanup();
  });

  it('gives every request an id: response header, structured log line and activity-log context', async () => {
    const client = new Client(server.url).withKey(key);
    const flag = await client.request(
      'POST',
      `/api/projects/${projectId}/feature_flags/`,
      { key: 'traced' },
      { headers: { 'x-request-id': 'trace-0123456789' } },
    );
    expect(flag.status).toBe(201);
    expect(flag.headers.get('x-request-id')).toBe('trace-0123456789');
    const own = await client.get('/_health');
    expect(own.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // A hostile incoming id is replaced, not echoed.
    const hostile = await client.request('GET', '/_health', undefined, { headers: { 'x-request-id': '<script>alert(1)</script>' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const log = await client.get(`/api/projects/${projectId}/activity_log/?scope=FeatureFlag`);
    expect(log.body.results[0].detail.context.request_id).toBe('trace-0123456789');

    const deadline = Date.now() + 10_000;
    let lines: any[] = [];
    while (Date.now() < deadline) {
      lines = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      if (lines.some((l) => l.reqId === 'trace-0123456789' && l.res?.statusCode === 201)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = lines.find((l) => l.reqId === 'trace-0123456789' && l.res?.statusCode === 201);
    expect(done).toMatchObject({ level: 30, msg: 'request completed' });
    expect(typeof done.responseTime).toBe('number');
    // Secrets never reach the log.
    expect(server.output()).not.toContain(key);
  });

  it('on SIGTERM finishes every request it accepted: each acknowledged write is in the database after a restart', async () => {
    const client = new Client(server.url).withKey(key);
    const acknowledged: number[] = [];
    let refused = 0;
    const write = async (i: number) => {
      try {
        const res = await client.post(`/api/projects/${projectId}/feature_flags/`, { key: `drain-${i}` });
        if (res.status === 201) acknowledged.push(res.body.id);
        else if (res.status === 503) refused += 1;
        else throw new Error(`unexpected ${res.status} ${JSON.stringify(res.body)}`);
      } catch (err) {
        if ((err as Error).message.startsWith('unexpected')) throw err;
        refused += 1; // connection refused or closed before a response: never acknowledged
      }
    };
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      inFlight.push(write(i));
      if (i === 20) inFlight.push(server.stop('SIGTERM').then((code) => expect(code).toBe(0)));
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inFlight);
    // The stop came in the middle: some writes were acknowledged, later ones refused.
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(acknowledged.length + refused).toBe(60);

    server = await serve(instance.args, instance.env);
    const after = new Client(server.url).withKey(key);
    const flags = await after.get(`/api/projects/${projectId}/feature_flags/?limit=1000`);
    const stored = new Set(flags.body.results.map((f: { id: number }) => f.id));
    for (const id of acknowledged) expect(stored.has(id), `flag ${id}`).toBe(true);
  }, 120_000);

  it('`warden audit export` writes the whole log, oldest first, as NDJSON or CSV, with one JSON summary', async () => {
    const live = await new Client(server.url).withKey(key).get(`/api/projects/${projectId}/feature_flags/?limit=1000`);
    const flagKeys = live.body.results.map((f: { key: string }) => f.key).sort();
    expect(await server.stop()).toBe(0);
    const ndjson = join(dir, 'audit.ndjson');
    const res = await warden(['audit', 'export', '--organization', organizationId, '--out', ndjson, '--json', ...instance.args], instance.env);
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout);
    const lines = readFileSync(ndjson, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(summary).toEqual({ organization_id: organizationId, file: ndjson, format: 'ndjson', entries: lines.length });
    // Every flag the API knows has its creation in the export, and bootstrap's entries come first.
    const created = lines.filter((l) => l.scope === 'FeatureFlag' && l.activity === 'created').map((l) => l.detail.name);
    expect(created.sort()).toEqual(flagKeys);
    expect(flagKeys).toContain('traced');
    expect(lines[0]).toMatchObject({ scope: 'Organization', activity: 'created' });
    const csv = join(dir, 'audit.csv');
    const asCsv = await warden(['audit', 'export', '--organization', organizationId, '--out', csv, '--format', 'csv', ...instance.args], instance.env);
    expect(asCsv.stdout).toContain(`Exported ${lines.length} entries`);
    expect(readFileSync(csv, 'utf8').trim().split('\r\n')).toHaveLength(lines.length + 1);
    const bad = await warden(['audit', 'export', '--organization', 'nope', '--out', csv, ...instance.args], instance.env);
    expect(bad.code).toBe(2);
  }, 120_000);
});
