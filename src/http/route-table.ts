import type { FastifyInstance } from 'fastify';
import type { RouteAccess } from '../access/route-access.js';

export interface RouteEntry {
  method: string;
  url: string;
  access: RouteAccess;
  pattern: RegExp;
}

function toPattern(url: string): RegExp {
  const body = url
    .replace(/\/+$/, '')
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}/?$`);
}

/** Records every route as it is registered: for 405 answers, the OpenAPI document and the tests. */
export function collectRouteTable(app: FastifyInstance): RouteEntry[] {
  const table: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    for (const method of methods) {
      if (method === 'HEAD' || !access) continue;
      table.push({ method, url: route.url, access, pattern: toPattern(route.url) });
    }
  });
  return table;
}

/** Methods that exist for a concrete path, for a 405's Allow header. */
export function allowedMethods(table: readonly RouteEntry[], path: string): string[] {
  return [...new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method))];
}
