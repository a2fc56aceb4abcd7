import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLogger } from "@dq/core";
import { Actions } from "./api-actions.js";
import { errorText, Reads } from "./api-reads.js";
import { EventHub } from "./events.js";
import { HttpError, notFound, readJson, sendError, sendJson, badRequest } from "./http.js";
import { packageDirectoryUrl } from "./module-url.js";
import { parseDashboardOptions, type DashboardAction, type DashboardOptions } from "./options.js";
import { Query } from "./params.js";
import { Csrf } from "./security.js";
import { buildSources } from "./sources/build.js";
import type { Source } from "./sources/source.js";
import { StaticUi } from "./static.js";

/** Per-call options of `handle`. */
export interface HandleOptions {
  /** Where the dashboard is mounted (e.g. `/dq`); default the `basePath` option. */
  prefix?: string;
  /** Whether the framework already removed the prefix from `req.url` (Express does). */
  stripped?: boolean;
}

/** The handler `createDashboard` returns: call it as `(req, res)` from any Node HTTP server. */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Handles a request; `prefix` says where it is mounted when the framework stripped it. */
  handle(req: IncomingMessage, res: ServerResponse, options?: HandleOptions): Promise<void>;
  /** The broker sources by id. */
  readonly sources: ReadonlyMap<string, Source>;
  /** Ends the event streams and closes what the dashboard opened (not the brokers). */
  close(): Promise<void>;
}

/** SPA pages answered with index.html. */
const PAGES =
  /^\/(|queues\/[^/]+\/[^/]+|messages\/[^/]+\/[^/]+\/[^/]+|workers|search|schedules)\/?$/;

/** What each POST route does, and the action `authorize` sees. */
const POST_ROUTES: { pattern: RegExp; action: DashboardAction }[] = [
  { pattern: /^\/api\/queues\/([^/]+)\/([^/]+)\/retry$/, action: "retry" },
  { pattern: /^\/api\/queues\/([^/]+)\/([^/]+)\/purge$/, action: "purge" },
  { pattern: /^\/api\/messages\/([^/]+)\/([^/]+)\/([^/]+)\/delete$/, action: "delete" },
  { pattern: /^\/api\/messages\/([^/]+)\/([^/]+)\/([^/]+)\/requeue$/, action: "requeue" },
  { pattern: /^\/api\/messages\/([^/]+)\/([^/]+)\/([^/]+)\/abort$/, action: "abort" },
  { pattern: /^\/api\/schedules\/([^/]+)\/(pause|resume)$/, action: "schedule" },
];

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`bad URL segment ${JSON.stringify(segment)}`);
  }
}

/**
 * Creates the dashboard: one framework-neutral handler for Node's `(req, res)`, with the JSON API,
 * Server-Sent Events and the built UI. Mount it with `nodeHandler`, `expressMiddleware`,
 * `fastifyPlugin` or `honoHandler`.
 * @throws InvalidOptionError on a bad option
 */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  parseDashboardOptions(options);
  const logger = getLogger("dq.dashboard");
  const { sources, brokers } = buildSources(options);
  const reads = new Reads(sources, options);
  const actions = new Actions(reads, brokers, options);
  const events = new EventHub(() => reads.overview(), options.eventInterval ?? 2000, logger);
  const csrf = new Csrf();
  const uiDirectory = options.uiDirectory ?? path.join(fileURLToPath(packageDirectoryUrl), "ui");
  const ui = new StaticUi(uiDirectory);
  const basePath = options.basePath ?? "";

  const authorize = async (req: IncomingMessage, action: DashboardAction) => {
    if (!options.authorize) return;
    const allowed = await options.authorize(
      { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers },
      action,
    );
    if (!allowed) throw new HttpError(403, "forbidden", `not allowed to ${action}`);
  };

  const session = (req: IncomingMessage, res: ServerResponse, base: string) => {
    const { token, setCookie } = csrf.session(req, base);
    sendJson(
      res,
      200,
      {
        csrfToken: token,
        readOnly: options.readOnly === true,
        features: {
          results: options.resultBackend !== undefined,
          abort: options.abort !== undefined && options.readOnly !== true,
          scheduler: options.scheduler !== undefined,
        },
        brokers: [...sources.values()].map(({ id, kind, url }) => ({ id, kind, url })),
      },
      setCookie ? { "set-cookie": setCookie } : {},
    );
  };

  const get = async (
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    url: URL,
    base: string,
  ) => {
    const query = new Query(url.searchParams);
    let match: RegExpExecArray | null;
    if (route === "/api/session") return session(req, res, base);
    if (route === "/api/overview") return sendJson(res, 200, await reads.overview());
    if (route === "/api/workers") return sendJson(res, 200, await reads.workers());
    if (route === "/api/search") return sendJson(res, 200, await reads.search(query));
    if (route === "/api/events") return events.add(res);
    if (route === "/api/schedules") {
      if (!options.scheduler) throw notFound("no scheduler is configured");
      return sendJson(res, 200, { schedules: await options.scheduler.list() });
    }
    if ((match = /^\/api\/queues\/([^/]+)\/([^/]+)\/messages$/.exec(route))) {
      const [broker, queue] = [decode(match[1]!), decode(match[2]!)];
      return sendJson(res, 200, await reads.messages(broker, queue, query));
    }
    if ((match = /^\/api\/messages\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(route))) {
      const [broker, queue, id] = [decode(match[1]!), decode(match[2]!), decode(match[3]!)];
      return sendJson(res, 200, await reads.message(broker, queue, id));
    }
    throw notFound(`no API route GET ${route}`);
  };

  const post = async (req: IncomingMessage, res: ServerResponse, route: string) => {
    const found = POST_ROUTES.map((r) => ({ ...r, match: r.pattern.exec(route) })).find(
      (r) => r.match,
    );
    if (!found) throw notFound(`no API route POST ${route}`);
    csrf.check(req);
    if (options.readOnly) throw new HttpError(403, "read_only", "the dashboard is read-only");
    await authorize(req, found.action);
    const [a, b, c] = found.match!.slice(1).map(decode) as [string, string, string | undefined];
    const body = await readJson(req);
    let reply: unknown;
    switch (found.action) {
      case "retry":
        reply = await actions.retry(a, b, body);
        break;
      case "purge":
        reply = await actions.purge(a, b, body);
        break;
      case "delete":
        reply = await actions.delete(a, b, c!, body);
        break;
      case "requeue":
        reply = await actions.requeue(a, b, c!, body);
        break;
      case "abort":
        reply = await actions.abort(a, b, c!, body);
        break;
      default:
        reply = await actions.schedule(a, b as "pause" | "resume");
    }
    if (found.action !== "schedule") events.changed(a, b);
    sendJson(res, 200, reply);
  };

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    handleOptions: HandleOptions = {},
  ) => {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    let route = url.pathname;
    const prefix = (handleOptions.prefix ?? basePath).replace(/\/+$/, "");
    if (!handleOptions.stripped && prefix) {
      if (route !== prefix && !route.startsWith(`${prefix}/`)) {
        return sendError(res, notFound(`not under the dashboard's path ${prefix}`));
      }
      route = route.slice(prefix.length);
    }
    if (route === "") route = "/";
    const base = `${prefix}/`;
    const isApi = route === "/api" || route.startsWith("/api/");
    try {
      const method = req.method ?? "GET";
      if (method === "POST" && isApi) return await post(req, res, route);
      if (method !== "GET" && method !== "HEAD") {
        throw new HttpError(405, "bad_request", `method ${method} not allowed`);
      }
      await authorize(req, "read");
      if (isApi) return await get(req, res, route, url, base);
      if (route.startsWith("/assets/") || /^\/[^/]+\.[a-z0-9]+$/i.test(route)) {
        if (await ui.asset(res, decode(route.slice(1)))) return;
        throw notFound(`no file ${route}`);
      }
      if (PAGES.test(route)) return await ui.page(res, base);
      throw notFound(`no page ${route}`);
    } catch (error) {
      if (error instanceof HttpError) return sendError(res, error);
      logger.warn(`Dashboard request ${req.method} ${route} failed: ${errorText(error)}`);
      sendJson(res, 500, { error: { code: "internal", message: errorText(error) } });
    }
  };

  const handler = ((req: IncomingMessage, res: ServerResponse) =>
    handle(req, res)) as DashboardHandler;
  return Object.assign(handler, {
    handle,
    sources,
    close: async () => {
      events.close();
      for (const source of sources.values()) await source.close();
    },
  });
}
