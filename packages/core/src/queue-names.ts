import { InvalidOptionError } from "./errors.js";

const QUEUE_NAME = /^[a-zA-Z_][a-zA-Z0-9._-]*$/;

/**
 * @throws InvalidOptionError when `name` is not a valid queue name (`[a-zA-Z_][a-zA-Z0-9._-]*`)
 */
export function validateQueueName(name: unknown): string {
  if (typeof name !== "string" || !QUEUE_NAME.test(name)) {
    throw new InvalidOptionError(
      `invalid queue name ${JSON.stringify(name)}: queue names must match [a-zA-Z_][a-zA-Z0-9._-]*`,
    );
  }
  return name;
}

/** `q.DQ` → `q`, `q.XQ` → `q`, `q` → `q`. */
export function canonicalQueueName(name: string): string {
  return name.endsWith(".DQ") || name.endsWith(".XQ") ? name.slice(0, -3) : name;
}

/** The delay queue of `name`: `q.DQ`. */
export function delayQueueName(name: string): string {
  return `${canonicalQueueName(name)}.DQ`;
}

/** The dead-letter queue of `name`: `q.XQ`. */
export function deadLetterQueueName(name: string): string {
  return `${canonicalQueueName(name)}.XQ`;
}

/** Whether `name` is a delay queue. */
export function isDelayQueueName(name: string): boolean {
  return name.endsWith(".DQ");
}
