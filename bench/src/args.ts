/** The systems the harness knows, by the name the `--systems` flag takes. */
export const SYSTEMS = [
  "dq",
  "bullmq",
  "bee-queue",
  "dq-rabbitmq",
  "dq-rabbitmq-confirm",
  "redis-floor",
  "rabbitmq-floor",
  "dq-otel",
] as const;
export type SystemId = (typeof SYSTEMS)[number];

/** The cases, by the name the `--cases` flag takes. */
export const CASES = ["B1", "B1b", "B2", "B3"] as const;
export type CaseId = (typeof CASES)[number];

/** What one invocation of the harness measures. */
export interface BenchOptions {
  cases: CaseId[];
  systems: SystemId[];
  /** Whether `systems` was given explicitly (otherwise unreachable servers are skipped quietly). */
  systemsExplicit: boolean;
  /** Jobs per B1/B1b/B2 measurement. */
  jobs: number;
  /** Jobs per bulk call in B1b (default: all of them in one call). */
  batch: number;
  /** Jobs measured in B3 (after a few warm-up jobs). */
  latencyJobs: number;
  /** Worker concurrencies for B2. */
  concurrency: number[];
  /** Runs per cell; the table shows the median. */
  runs: number;
  out: string;
  redisUrl: string;
  amqpUrl: string;
  smoke: boolean;
  /** When set, every worker child runs under `node --cpu-prof` and writes its profile here. */
  profileDir: string | undefined;
  help: boolean;
}

export const USAGE = `Usage: pnpm bench [flags]

  --cases B1,B1b,B2,B3        cases to run (default: all)
  --systems dq,bullmq,bee-queue,dq-rabbitmq,dq-rabbitmq-confirm,redis-floor,rabbitmq-floor,dq-otel
                              systems to run (default: all whose server answers, but
                              dq-otel; the floors are bare ioredis / amqplib queues, no
                              queue code; dq-otel is dq with the OpenTelemetry middleware
                              and no SDK registered, run only when named)
  --jobs N                    jobs per B1/B1b/B2 measurement (default 20000)
  --batch N                   jobs per bulk call in B1b (default: --jobs, one call)
  --latency-jobs N            jobs measured one at a time in B3 (default 500)
  --concurrency 1,8,64        worker concurrencies for B2 (default 1,8,64)
  --runs N                    runs per cell, the table shows the median (default 3)
  --out FILE                  JSON output (default bench/results/latest.json)
  --redis-url URL             default env REDIS_URL or redis://127.0.0.1:6379
  --amqp-url URL              default env AMQP_URL or amqp://guest:guest@127.0.0.1:5672
  --cpu-prof DIR              run worker children under node --cpu-prof, profiles in DIR
  --smoke                     N=200, 50 latency jobs, runs=1, all cases, reachable systems
  --help                      this text
`;

function positive(flag: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} takes an integer >= 1, got ${JSON.stringify(text)}`);
  return value;
}

function list<T extends string>(
  flag: string,
  text: string | undefined,
  allowed: readonly T[],
): T[] {
  const items = (text ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0)
    throw new Error(`${flag} takes a comma-separated list of ${allowed.join(", ")}`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item))
      throw new Error(
        `${flag}: unknown ${JSON.stringify(item)}; expected some of ${allowed.join(", ")}`,
      );
  }
  return [...new Set(items)] as T[];
}

/**
 * Parses the command line (`--flag value` or `--flag=value`).
 * @throws Error naming the flag on an unknown flag or a bad value
 */
export function parseArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  defaultOut: string,
): BenchOptions {
  const options: BenchOptions = {
    cases: [...CASES],
    // dq-otel answers one question (issue 23) and is run only when named.
    systems: SYSTEMS.filter((id) => id !== "dq-otel"),
    systemsExplicit: false,
    jobs: 20_000,
    batch: 0,
    latencyJobs: 500,
    concurrency: [1, 8, 64],
    runs: 3,
    out: defaultOut,
    redisUrl: env.REDIS_URL ?? "redis://127.0.0.1:6379",
    amqpUrl: env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
    smoke: false,
    profileDir: undefined,
    help: false,
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (raw === "--") continue;
    const [flag, inline] = raw.includes("=")
      ? [raw.slice(0, raw.indexOf("=")), raw.slice(raw.indexOf("=") + 1)]
      : [raw, undefined];
    const value = () => inline ?? argv[++i];
    given.add(flag);
    switch (flag) {
      case "--cases":
        options.cases = list(flag, value(), CASES);
        break;
      case "--systems":
        options.systems = list(flag, value(), SYSTEMS);
        options.systemsExplicit = true;
        break;
      case "--jobs":
        options.jobs = positive(flag, value());
        break;
      case "--batch":
        options.batch = positive(flag, value());
        break;
      case "--latency-jobs":
        options.latencyJobs = positive(flag, value());
        break;
      case "--concurrency":
        options.concurrency = [
          ...new Set(
            (value() ?? "")
              .split(",")
              .filter(Boolean)
              .map((text) => positive(flag, text.trim())),
          ),
        ];
        if (options.concurrency.length === 0)
          throw new Error("--concurrency takes a comma-separated list of integers >= 1");
        break;
      case "--runs":
        options.runs = positive(flag, value());
        break;
      case "--out":
        options.out = value() ?? "";
        if (!options.out) throw new Error("--out takes a file name");
        break;
      case "--redis-url":
        options.redisUrl = value() ?? "";
        break;
      case "--amqp-url":
        options.amqpUrl = value() ?? "";
        break;
      case "--cpu-prof":
        options.profileDir = value() ?? "";
        if (!options.profileDir) throw new Error("--cpu-prof takes a directory");
        break;
      case "--smoke":
        options.smoke = true;
        break;
      case "--help":
      case "-h":
        options.help = true;
        break;
      default:
        throw new Error(`unknown flag ${JSON.stringify(raw)}\n\n${USAGE}`);
    }
  }
  if (options.smoke) {
    if (!given.has("--jobs")) options.jobs = 200;
    if (!given.has("--latency-jobs")) options.latencyJobs = 50;
    if (!given.has("--runs")) options.runs = 1;
  }
  if (!given.has("--batch")) options.batch = options.jobs;
  return options;
}
