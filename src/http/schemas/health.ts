import { Type, type Static } from '@sinclair/typebox';

/** Under `warden serve --workers N`, the worker process that answered. */
export const HealthWorker = Type.Object({ slot: Type.Optional(Type.Number()), pid: Type.Number() });

export const Health = Type.Object({ status: Type.Literal('ok'), database: Type.Literal('up'), worker: Type.Optional(HealthWorker) });
export type Health = Static<typeof Health>;
