import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvField } from '../../src/http/serializers/activity-log.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { newOrganization } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

describe('CSV export: formula injection', () => {
  it('prefixes text cells a spreadsheet would run as a formula with a single quote', () => {
    expect(csvField('=SUM(A1:A9)')).toBe("'=SUM(A1:A9)");
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@cmd')).toBe("'@cmd");
    expect(csvField('\tx')).toBe("'\tx");
    expect(csvField('\rx')).toBe('"\'\rx"');
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe('"\'=HYPERLINK(""http://evil"",""x"")"');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField(-5)).toBe('-5');
    expect(csvField(null)).toBe('');
  });

  it('neutralizes a user-chosen value in a real export', async () => {
    const org = await newOrganization(server.url);
    const project = org.defaultProjectId;
    const token = (await org.owner.client.get(`/api/projects/${project}/`)).body.api_token;
    const sessionId = '=HYPERLINK("http://evil.example/","open")';
    const captured = await new Client(server.url).post('/batch/', {
      api_key: token,
      batch: [{ event: '$pageview', distinct_id: 'eve', timestamp: '2024-06-01T09:00:00Z', properties: { $session_id: sessionId } }],
    });
    expect(captured.status, JSON.stringify(captured.body)).toBe(200);
    const deleted = await org.owner.client.delete(`/api/projects/${project}/session_recordings/${encodeURIComponent(sessionId)}/`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
    const res = await org.owner.client.get(`/api/organizations/${org.id}/activity_log/export/?format=csv&scope=Replay`);
    expect(res.status).toBe(200);
    const lines = String(res.body).trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`,"'=HYPERLINK(""http://evil.example/"",""open"")",`);
    expect(lines[1]).not.toMatch(/,=HYPERLINK|,"=HYPERLINK/);
  });
});
