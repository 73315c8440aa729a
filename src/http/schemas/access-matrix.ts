import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './common.js';

export const PlanBody = Type.Object(
  {
    document: Type.Unknown(),
    file_name: Type.Optional(Type.String({ maxLength: 200 })),
    file_hash: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type PlanBody = Static<typeof PlanBody>;
export const ApplyBody = Type.Object(
  {
    document: Type.Unknown(),
    file_name: Type.Optional(Type.String({ maxLength: 200 })),
    file_hash: Type.Optional(Type.String({ maxLength: 100 })),
    dry_run: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ApplyBody = Static<typeof ApplyBody>;

/** The organization's access as a matrix file (YAML text). */
export const MatrixExport = Type.Object({
  organization_id: Type.String(),
  document: Type.String(),
  file_sha256: Type.String(),
  warnings: Type.Array(Type.String()),
});
export type MatrixExport = Static<typeof MatrixExport>;

/** One line of a plan: `+` add, `~` change, `-` remove. `before`/`after` are the values as they are and will be. */
export const MatrixChange = Type.Object({
  op: Type.Union([Type.Literal('+'), Type.Literal('~'), Type.Literal('-')]),
  kind: Type.String(),
  subject: Type.String(),
  project: Nullable(Type.Object({ id: Type.Integer(), name: Type.String() })),
  resource: Nullable(Type.String()),
  item: Nullable(Type.String()),
  before: Type.Optional(Type.Unknown()),
  after: Type.Optional(Type.Unknown()),
  description: Type.String(),
  /** Where in the file the change comes from. */
  origin: Nullable(Type.Object({ path: Type.String(), line: Type.Optional(Type.Integer()), column: Type.Optional(Type.Integer()) })),
});
export type MatrixChange = Static<typeof MatrixChange>;

export const MatrixPlan = Type.Object({
  organization_id: Type.String(),
  file_sha256: Type.String(),
  changes: Type.Array(MatrixChange),
  summary: Type.Object({ add: Type.Integer(), change: Type.Integer(), remove: Type.Integer() }),
  warnings: Type.Array(Type.String()),
});
export type MatrixPlan = Static<typeof MatrixPlan>;

/** A key made by an apply; its value is shown here once. */
export const MatrixNewKey = Type.Object({
  service_account: Type.String(),
  project_id: Type.Integer(),
  project_name: Type.String(),
  key_id: Type.String(),
  label: Type.String(),
  scopes: Type.Array(Type.String()),
  value: Type.String(),
});

export const MatrixApply = Type.Composite([
  MatrixPlan,
  Type.Object({ dry_run: Type.Boolean(), batch_id: Nullable(Type.String()), new_keys: Type.Array(MatrixNewKey) }),
]);
export type MatrixApply = Static<typeof MatrixApply>;
