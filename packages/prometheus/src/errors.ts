import { DramatiqError } from "@dq/core";

/** The metrics HTTP server could not listen: the message names the host and port (e.g. in use). */
export class MetricsServerError extends DramatiqError {}
