import type { MiddlewareClass } from "./broker-options.js";
import { InvalidOptionError } from "./errors.js";
import type { Middleware } from "./middleware/middleware.js";

/** Where `addMiddleware` puts a middleware: before or after the first one of a class (default: last). */
export interface MiddlewarePosition {
  before?: MiddlewareClass;
  after?: MiddlewareClass;
}

/**
 * Inserts a middleware into a broker's list: at the end, or before/after the first middleware of
 * a class.
 * @throws InvalidOptionError when `before`/`after` names a class that is not installed, or both are given
 */
export function insertMiddleware(
  list: Middleware[],
  middleware: Middleware,
  position: MiddlewarePosition,
): void {
  const { before, after } = position;
  if (before && after)
    throw new InvalidOptionError("addMiddleware takes `before` or `after`, not both");
  const anchor = before ?? after;
  if (anchor) {
    const index = list.findIndex((m) => m instanceof anchor);
    if (index < 0)
      throw new InvalidOptionError(
        `addMiddleware: no middleware of class ${anchor.name} is installed`,
      );
    list.splice(before ? index : index + 1, 0, middleware);
  } else {
    list.push(middleware);
  }
}
