// decide() in process: decisions per second for the hot path's shapes, and how a denial compares
// with a grant (both must stay cheap: the guard pays one per request).
import { decide } from '../dist/access/decide.js';
import { compare } from './timing.mjs';

const organization = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'Acme',
  level: 1,
  membersCanUsePersonalApiKeys: true,
  keyPolicy: { organizationName: 'Acme', allowedScopes: null, maxLifetimeDays: null },
};
const project = { id: 42, organizationId: organization.id, effectiveLevel: 1 };
const key = {
  kind: 'personal_api_key',
  userId: 7,
  keyId: 'k1',
  scopes: ['insight:read', 'dashboard:read', 'query:read', 'feature_flag:read', 'feature_flag:write'],
  scopedTeams: [41, 42],
  scopedOrganizations: null,
  createdAt: new Date(),
  isServiceAccount: false,
};
const now = new Date();
const grant = () => decide({ principal: key, access: { kind: 'scoped', scope: 'feature_flag', action: 'read' }, organization, project, now });
const denial = () => decide({ principal: key, access: { kind: 'scoped', scope: 'project', action: 'write' }, organization, project, now });

export async function benchDecisions() {
  if (!grant().allow || denial().allow) throw new Error('benchmark inputs no longer decide as expected');
  const { a, b } = await compare(grant, denial, { iterations: 200_000 });
  console.log('decide() in process');
  console.log(`  grant : ${(1e9 / a).toFixed(0).padStart(10)} decisions/s`);
  console.log(`  denial: ${(1e9 / b).toFixed(0).padStart(10)} decisions/s`);
  console.log(`  ratio denial/grant cost: ${(b / a).toFixed(2)}`);
}
