/** The OpenAPI document's route (/api/schema/). */
import { Type, type Static } from '@sinclair/typebox';
import { JsonObject } from './common.js';

export const SchemaQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')])) });
export type SchemaQuery = Static<typeof SchemaQuery>;

/** The OpenAPI 3.1 document: YAML by default (a string), JSON on request. */
export const OpenApiDocument = Type.Unsafe<object | string>({
  ...JsonObject,
  description: 'The OpenAPI 3.1 document: application/vnd.oai.openapi (YAML) by default, JSON with ?format=json or Accept: application/json.',
});
