// Registering routes so that the OpenAPI document and the request checks
// come from one definition (a createRoute() config with zod schemas):
//   serveRoute     documents the route and serves it; OpenAPIHono checks the
//                  path parameters, query and headers with the app's hook,
//                  and a JSON body is read capped and checked by jsonBody();
//   describeRoute  documents a route that is served some other way (a
//                  wildcard or regex path, an HTML page, a sub-app).

import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { ZodType } from 'zod';
import { jsonBody, validationHook, type ValidationStyle } from './validation.js';

export type { RouteConfig };

/** An app whose failed checks throw style's coded error (validation.ts). */
export function createApiApp(style: ValidationStyle): OpenAPIHono {
  // The hook never returns a response (it throws), so its generic result type does not matter.
  return new OpenAPIHono({ defaultHook: validationHook(style) as never });
}

export type RouteHandler = (c: Context) => Response | Promise<Response>;

export interface ServeRouteOptions {
  /** Runs before any check (API keys, so that a bad key is a 401 before a bad body is a 400). */
  middleware?: MiddlewareHandler[];
  /** Cap for a JSON request body (required when the route declares one). */
  maxBodyBytes?: number;
  /** The error style of JSON body checks (the app's own hook covers the rest). */
  style?: ValidationStyle;
}

/** The zod schema of route's application/json request body, if it has one. */
export function jsonBodySchema(route: RouteConfig): ZodType | null {
  const media = route.request?.body?.content['application/json'];
  const schema = media !== undefined && 'schema' in media ? media.schema : undefined;
  return schema !== undefined && typeof (schema as ZodType).safeParseAsync === 'function' ? (schema as ZodType) : null;
}

/** Documents route and serves handler at it, after the checks its schemas define. */
export function serveRoute(app: OpenAPIHono, route: RouteConfig, handler: RouteHandler, o: ServeRouteOptions = {}): void {
  const middleware = [...(o.middleware ?? [])];
  const body = jsonBodySchema(route);
  let served = route;
  if (body !== null) {
    if (o.maxBodyBytes === undefined || o.style === undefined) throw new TypeError(`serveRoute: ${route.path} has a JSON body; pass maxBodyBytes and style`);
    describeRoute(app, route);
    middleware.push(jsonBody({ schema: body, maxBytes: o.maxBodyBytes, style: o.style }));
    const { body: _documented, ...request } = route.request ?? {};
    served = { ...route, request, hide: true };
  }
  // The typed-response generics of openapi() buy nothing here: handlers build their own Responses.
  (app.openapi as (r: RouteConfig, h: RouteHandler) => OpenAPIHono)({ ...served, ...(middleware.length > 0 && { middleware }) }, handler);
}

/** Documents route only; the caller serves it. */
export function describeRoute(app: OpenAPIHono, route: RouteConfig): void {
  app.openAPIRegistry.registerPath(route);
}

/** The hono path of an OpenAPI path: /v1/log/entry/{index} -> /v1/log/entry/:index. */
export function honoPath(openApiPath: string): string {
  return openApiPath.replaceAll(/\/{(.+?)}/g, '/:$1');
}
