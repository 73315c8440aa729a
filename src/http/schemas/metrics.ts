import { Type } from '@sinclair/typebox';

/** Prometheus' text exposition format; not JSON, never serialized by a schema. */
export const MetricsText = {
  description: "Prometheus' text exposition format.",
  content: { 'text/plain': { schema: Type.String() } },
};
