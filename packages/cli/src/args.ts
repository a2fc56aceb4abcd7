import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { editDistance } from "@dq/core/adapter";

/** The validated options of one `dq` run. */
export interface CliOptions {
  /** Module specifiers, each `path-or-package` or `path-or-package:exportName`. */
  modules: string[];
  processes: number;
  concurrency: number;
  /** Only these queues; undefined for every declared queue. */
  queues: string[] | undefined;
  /** Base directories modules are resolved against (default: the working directory). */
  paths: string[];
  pidFile: string | undefined;
  logFile: string | undefined;
  watch: string | undefined;
  workerShutdownTimeout: number;
  /** `--metrics [host:]port`: serve Prometheus metrics there; undefined when the flag is absent. */
  metrics: { host?: string; port?: number } | undefined;
  /** `--max-kills N`: dead-letter a message whose processing killed its worker process N times. */
  maxKills: number;
  skipLogging: boolean;
  /** Run without a configured broker: each worker process on its own in-memory StubBroker. */
  inMemory: boolean;
  /** `--scheduler`: also run one `@dq/scheduler` Scheduler (in a fork) for the modules' schedules. */
  scheduler: boolean;
  verbose: number;
  help: boolean;
  version: boolean;
}

/** A command line that `dq` refuses: the message names the flag or value (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `Usage: dq <module> [module...] [options]

Runs worker processes for the actors that <module> declares on the global broker.
A module is a file path (.js, .mjs, .cjs, .ts, .mts) or a package name, resolved against --path;
"module:name" names a Broker exported by the module, which becomes the global broker.

Options:
  -p, --processes N               worker processes (default: CPU count)
  -t, --threads N                 messages processed at once per process (default 8)
      --concurrency N             same as --threads
  -Q, --queues Q [Q...]           consume only these queues (repeatable; default: all)
  -P, --path DIR [DIR...]         base directories for module resolution (default: .)
      --pid-file FILE             write the supervisor's pid here; exit 4 if a live process holds it
      --log-file FILE             append every process's logs to FILE instead of stderr
      --watch DIR                 reload the workers when a source file under DIR changes
      --worker-shutdown-timeout MS
                                  how long a stopping worker waits for running messages (default 600000)
      --metrics [HOST:]PORT       serve Prometheus metrics (needs @dq/prometheus; default host 127.0.0.1)
      --max-kills N               dead-letter a message that killed its worker process N times (default 3)
      --skip-logging              leave logging configuration (DQ_LOG_LEVEL, logger factory) to your modules
      --in-memory                 allow running with no broker configured: each worker process gets its own
                                  in-memory StubBroker (messages never leave it; for trying things out)
      --scheduler                 also run a scheduler for the schedules the modules declare (needs
                                  @dq/scheduler; its store: DQ_SCHEDULER_URL, else DQ_BROKER_URL)
  -v, --verbose                   debug logging
  -h, --help                      show this help
      --version                   print the version

Environment (DQ_* names; Dramatiq's dramatiq_* names are read as aliases):
  DQ_BROKER_URL                   the broker, e.g. redis://127.0.0.1:6379/0?namespace=app or
                                  amqp://guest:guest@127.0.0.1:5672 (its adapter package is imported)
  DQ_LOG_LEVEL                    debug, info (default), warn, error or silent
  DQ_METRICS_PORT                 serve metrics on 127.0.0.1:PORT (as --metrics PORT)
  DQ_PROMETHEUS                   1/true/yes/on: serve metrics on DQ_PROM_HOST:DQ_PROM_PORT (off by default)
  DQ_PROM_HOST, DQ_PROM_PORT, DQ_PROM_DB
                                  its exposition server (default 127.0.0.1:9191) and metrics directory
                                  (aliases dramatiq_prom_host, dramatiq_prom_port, dramatiq_prom_db)
  DQ_QUEUE_PREFETCH               unacked messages per queue consumer (alias dramatiq_queue_prefetch)
  DQ_DELAY_QUEUE_PREFETCH         same for delay queues (alias dramatiq_delay_queue_prefetch)
  DQ_WORKER_TIMEOUT               idle wake-up of consumers in ms (alias dramatiq_worker_timeout)
  DQ_RESTART_DELAY                wait before restarting a failed consumer in ms (alias dramatiq_restart_delay)
  DQ_DEAD_MESSAGE_TTL             RabbitMQ: how long dead letters are kept in ms (alias dramatiq_dead_message_ttl)
  DQ_LUA_MAX_STACK                Redis: override the probed Lua stack size (alias dramatiq_lua_max_stack)
  DQ_SUPERVISOR_TIMINGS           JSON overriding the supervisor's timings in ms (for tests)

Signals: INT/TERM stop gracefully (a second one kills the workers), HUP reloads the workers.
Exit codes: 0 stopped gracefully, 1 killed, 2 bad module or argument or no broker configured,
3 broker unreachable at start, 4 pid file held by a running process.`;

// Flags that take several values: `-Q a b c` as in Dramatiq (argparse nargs="*").
const VARIADIC = new Map([
  ["-Q", "--queues"],
  ["--queues", "--queues"],
  ["-P", "--path"],
  ["--path", "--path"],
]);

/** Rewrites `-Q a b` into `--queues=a --queues=b` so that `parseArgs` can read it. */
function expandVariadic(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const long = VARIADIC.get(arg);
    if (!long) {
      out.push(arg);
      continue;
    }
    let taken = 0;
    while (i + 1 < argv.length && !argv[i + 1]!.startsWith("-")) {
      out.push(`${long}=${argv[++i]!}`);
      taken++;
    }
    if (taken === 0) throw new UsageError(`option ${arg} expects at least one value`);
  }
  return out;
}

const integer = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${flag} expects a whole number` })
    .transform(Number)
    .refine((value) => value >= min && value <= max, {
      message: `${flag} must be between ${min} and ${max}`,
    });

const queueName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9._-]*$/, { message: "invalid queue name" });

const schema = z.object({
  processes: integer("--processes", 1, 1024).optional(),
  threads: integer("--threads", 1, 100_000).optional(),
  concurrency: integer("--concurrency", 1, 100_000).optional(),
  queues: z.array(z.string()).optional(),
  path: z.array(z.string().min(1, { message: "--path expects a directory" })).optional(),
  "pid-file": z.string().min(1, { message: "--pid-file expects a file name" }).optional(),
  "log-file": z.string().min(1, { message: "--log-file expects a file name" }).optional(),
  watch: z.string().min(1, { message: "--watch expects a directory" }).optional(),
  "worker-shutdown-timeout": integer("--worker-shutdown-timeout", 0, 2_147_483_647).optional(),
  metrics: z
    .string()
    .regex(/^(?:(\[[0-9a-fA-F:.]+\]|[^:]+):)?\d{1,5}$/, {
      message: "--metrics expects [host:]port",
    })
    .optional(),
  "max-kills": integer("--max-kills", 1, 1000).optional(),
  "skip-logging": z.boolean().optional(),
  "in-memory": z.boolean().optional(),
  scheduler: z.boolean().optional(),
  verbose: z.array(z.boolean()).optional(),
  help: z.boolean().optional(),
  version: z.boolean().optional(),
});

/**
 * Parses and validates the command line.
 * @param argv - the arguments after `dq`
 * @throws UsageError naming the bad flag or value
 */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(expandVariadic(argv));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // parseArgs' own messages already name the option ("Unknown option '--foo'").
    const first = (error as Error).message.split("\n")[0]!.replace(/\.$/, "");
    const ambiguous = /^Option '(.+?)' argument is ambiguous/.exec(first);
    if (ambiguous)
      throw new UsageError(
        `option '${ambiguous[1]!}' expects a value (a value starting with "-" needs the form --flag=value)`,
      );
    const unknown = /^Unknown option '(.+?)'/.exec(first);
    if (unknown) {
      const suggestion = didYouMean(unknown[1]!);
      throw new UsageError(
        `unknown option '${unknown[1]!}'${suggestion ? `; did you mean ${suggestion}?` : ""}`,
      );
    }
    throw new UsageError(
      first.replace(/^Unknown option/, "unknown option").replace(/^Option/, "option"),
    );
  }
  const result = schema.safeParse(parsed.values);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      const raw = (parsed.values as Record<string, unknown>)[key];
      const shown = Array.isArray(raw) ? raw.join(", ") : String(raw);
      return `${issue.message} (got ${JSON.stringify(shown)})`;
    });
    throw new UsageError(problems.join("; "));
  }
  const values = result.data;
  const queues = values.queues?.flatMap((value) => value.split(",")).filter(Boolean);
  for (const queue of queues ?? []) {
    if (!queueName.safeParse(queue).success)
      throw new UsageError(
        `--queues: invalid queue name ${JSON.stringify(queue)} (expected [a-zA-Z_][a-zA-Z0-9._-]*)`,
      );
  }
  if (
    values.threads !== undefined &&
    values.concurrency !== undefined &&
    values.threads !== values.concurrency
  ) {
    throw new UsageError(
      `--threads ${values.threads} and --concurrency ${values.concurrency} disagree; give one of them`,
    );
  }
  const options: CliOptions = {
    modules: parsed.positionals,
    processes: values.processes ?? availableParallelism(),
    concurrency: values.threads ?? values.concurrency ?? 8,
    queues: queues?.length ? queues : undefined,
    paths: values.path?.length ? values.path : ["."],
    pidFile: values["pid-file"],
    logFile: values["log-file"],
    watch: values.watch,
    workerShutdownTimeout: values["worker-shutdown-timeout"] ?? 600_000,
    metrics: values.metrics === undefined ? undefined : parseMetrics(values.metrics),
    maxKills: values["max-kills"] ?? 3,
    skipLogging: values["skip-logging"] ?? false,
    inMemory: values["in-memory"] ?? false,
    scheduler: values.scheduler ?? false,
    verbose: values.verbose?.length ?? 0,
    help: values.help ?? false,
    version: values.version ?? false,
  };
  if (!options.help && !options.version && options.modules.length === 0)
    throw new UsageError("expected at least one module");
  return options;
}

/** Splits `[host:]port` (`[::1]:9191` for IPv6). @throws UsageError when the port is out of range */
function parseMetrics(value: string): { host?: string; port?: number } {
  const colon = value.lastIndexOf(":");
  const port = Number(value.slice(colon + 1));
  if (port > 65535)
    throw new UsageError(
      `--metrics: port must be between 0 and 65535 (got ${JSON.stringify(value)})`,
    );
  if (colon < 0) return { port };
  return { host: value.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      processes: { type: "string", short: "p" },
      threads: { type: "string", short: "t" },
      concurrency: { type: "string" },
      queues: { type: "string", short: "Q", multiple: true },
      path: { type: "string", short: "P", multiple: true },
      "pid-file": { type: "string" },
      "log-file": { type: "string" },
      watch: { type: "string" },
      "worker-shutdown-timeout": { type: "string" },
      metrics: { type: "string" },
      "max-kills": { type: "string" },
      "skip-logging": { type: "boolean" },
      "in-memory": { type: "boolean" },
      scheduler: { type: "boolean" },
      verbose: { type: "boolean", short: "v", multiple: true },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
}

/** The known long flag closest to a misspelt one (`--thread` → `--threads`), if any is close. */
export function didYouMean(given: string): string | undefined {
  const flag = given.split("=")[0]!;
  const name = flag.replace(/^-+/, "");
  let best: { flag: string; distance: number } | undefined;
  for (const known of Object.keys(schema.shape)) {
    const d = editDistance(name, known);
    if (!best || d < best.distance) best = { flag: `--${known}`, distance: d };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.flag : undefined;
}
