/** PostHog's JSON shapes for access controls (ee/api/rbac/access_control.py). */
import type { AccessControlRecord, AccessControlsView } from '../../domain/access-control/access-controls.js';

export function accessControl(row: AccessControlRecord) {
  return {
    id: row.id,
    access_level: row.access_level,
    resource: row.resource,
    resource_id: row.resource_id,
    organization_member: row.organization_member_id,
    role: row.role_id,
    created_by: row.created_by_id,
    created_at: row.created_at,
    updated_at: row.updated_at,
    expires_at: row.expires_at,
    reason: row.reason,
  };
}

export function accessControls(view: AccessControlsView) {
  return { ...view, access_controls: view.access_controls.map(accessControl) };
}
