import type { IncomingMessage, ServerResponse } from "node:http";
import type { DashboardHandler } from "./dashboard.js";

/**
 * For `http.createServer(nodeHandler(dashboard))`: the dashboard at the server's root, or under
 * the `basePath` option.
 */
export function nodeHandler(
  dashboard: DashboardHandler,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => void dashboard.handle(req, res);
}

/** The parts of an Express request the middleware reads. */
interface ExpressRequest extends IncomingMessage {
  baseUrl?: string;
  body?: unknown;
}

/**
 * Express middleware: `app.use("/dq", expressMiddleware(dashboard))`. Express strips the mount path
 * from `req.url` and keeps it in `req.baseUrl`; a body parsed by `express.json()` is used as is.
 */
export function expressMiddleware(
  dashboard: DashboardHandler,
): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    const { baseUrl } = req as ExpressRequest;
    dashboard.handle(req, res, { prefix: baseUrl ?? "", stripped: true }).catch(next);
  };
}

/** The parts of Fastify the plugin uses (structural: Fastify is an optional peer). */
export interface FastifyLike {
  route(options: {
    method: string[];
    url: string;
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<void>;
  }): unknown;
}
interface FastifyRequestLike {
  raw: IncomingMessage;
  body?: unknown;
}
interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): void;
}

/**
 * A Fastify plugin: `app.register(fastifyPlugin(dashboard), { prefix: "/dq" })`. Fastify's
 * parsed JSON body is handed over; the reply is hijacked and written by the dashboard.
 */
export function fastifyPlugin(
  dashboard: DashboardHandler,
): (instance: FastifyLike, options: { prefix?: string }) => Promise<void> {
  return async (instance, options) => {
    const prefix = options.prefix ?? "";
    const handler = async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
      reply.hijack();
      if (request.body !== undefined) (request.raw as ExpressRequest).body = request.body;
      await dashboard.handle(request.raw, reply.raw, { prefix });
    };
    const method = ["GET", "HEAD", "POST"];
    instance.route({ method, url: "/", handler });
    instance.route({ method, url: "/*", handler });
  };
}

// @hono/node-server replaces the global Response with a lighter class when it serves, whose plain
// responses skip its "already sent" check: the marker is made with the class Node started with.
const NativeResponse = globalThis.Response;

/** The parts of a Hono context the handler uses (on `@hono/node-server`). */
export interface HonoContextLike {
  env: { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
}

/**
 * A Hono handler for apps served by `@hono/node-server`:
 * `app.all("/dq/*", honoHandler(dashboard, { prefix: "/dq" }))` (and `app.all("/dq", ...)`). It
 * writes to Node's response directly and tells Hono so.
 */
export function honoHandler(
  dashboard: DashboardHandler,
  options: { prefix?: string } = {},
): (context: HonoContextLike) => Promise<Response> {
  return async (context) => {
    const incoming = context.env?.incoming;
    const outgoing = context.env?.outgoing;
    if (!incoming || !outgoing) {
      return new Response("@dq/dashboard's honoHandler needs @hono/node-server", { status: 500 });
    }
    await dashboard.handle(incoming, outgoing, { prefix: options.prefix ?? "" });
    return new NativeResponse(null, { headers: { "x-hono-already-sent": "true" } });
  };
}
