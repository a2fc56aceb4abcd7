import { ActorNotFound, InvalidOptionError } from "@dq/core";

/** A schedule's `cron` expression that croner cannot parse; the message shows the expression. */
export class InvalidCronError extends InvalidOptionError {}

/** A schedule's `tz` that is not an IANA time zone this Node knows; the message shows it. */
export class InvalidTimeZoneError extends InvalidOptionError {}

/** A second schedule declared under a name already taken; the message shows the name. */
export class DuplicateScheduleError extends InvalidOptionError {}

/** `Scheduler.start()` found a schedule whose actor is not declared on the broker. */
export class ScheduleActorNotFound extends ActorNotFound {}

/** An operation (pause, resume, edit) names a schedule that was never declared. */
export class UnknownScheduleError extends InvalidOptionError {}
