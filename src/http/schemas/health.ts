import { Type, type Static } from '@sinclair/typebox';

export const Health = Type.Object({ status: Type.Literal('ok'), database: Type.Literal('up') });
export type Health = Static<typeof Health>;
