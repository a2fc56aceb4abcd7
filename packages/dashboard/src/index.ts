/**
 * @dq/dashboard — see and operate dq / Python Dramatiq queues on Redis and RabbitMQ in a browser.
 * One framework-neutral handler (`createDashboard`) with adapters for node:http, Express, Fastify
 * and Hono, and the `dq-dashboard` command.
 */
export { createDashboard } from "./dashboard.js";
export type { DashboardHandler, HandleOptions } from "./dashboard.js";
export type {
  AbortHook,
  AuthorizeRequest,
  DashboardAction,
  DashboardBroker,
  DashboardOptions,
  ScheduleInfo,
  SchedulerHook,
} from "./options.js";
export { CSRF_COOKIE, CSRF_HEADER } from "./security.js";
export { expressMiddleware, fastifyPlugin, honoHandler, nodeHandler } from "./adapters.js";
export type { FastifyLike, HonoContextLike } from "./adapters.js";
export { ProcessedCounter } from "./processed-counter.js";
