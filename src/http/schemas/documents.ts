import { Type } from '@sinclair/typebox';

/**
 * Answers that are not JSON: a page, a script, a stylesheet, XML. Declared so that the OpenAPI
 * document says what comes back; a string, buffer or file body is never run through a schema.
 */
export const TextBody = (mediaType: string, description: string) => ({ description, content: { [mediaType]: { schema: Type.String() } } });

/** A redirect: no body, the browser goes on to `location`. */
export const Redirect = (description: string) => ({ description, type: 'null' as const });
