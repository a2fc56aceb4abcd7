import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { brokerFromUrlAsync, type Broker, type ResultBackend } from "@dq/core";
import { editDistance } from "@dq/core/adapter";
import { nodeHandler } from "./adapters.js";
import { errorText } from "./api-reads.js";
import { createDashboard, type DashboardHandler } from "./dashboard.js";

const USAGE = `Usage: dq-dashboard --broker <url> [--broker <url>...] [options]

Serves the dq dashboard for the brokers' queues (Redis and RabbitMQ, dq's and Python Dramatiq's).

Options:
  --broker <url>       a broker URL: redis://host:6379/0?namespace=dramatiq or amqp://user:pass@host:5672 (repeatable)
  --results <url>      a result backend (redis://...) to show stored results
  --port <n>           port to listen on (default 9181)
  --host <address>     address to bind (default 127.0.0.1: reachable from this machine only)
  --base-path <path>   serve under a path prefix, e.g. /dq
  --read-only          hide and refuse every action
  --help               this text
`;

/** Flags taking a value, and switches. */
const VALUE_FLAGS = ["--broker", "--results", "--port", "--host", "--base-path"] as const;
const SWITCHES = ["--read-only", "--help"] as const;

/** The parsed command line. */
export interface CliOptions {
  brokers: string[];
  results?: string;
  port: number;
  host: string;
  basePath?: string;
  readOnly: boolean;
  help: boolean;
}

/** A usage error: printed with the usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

function suggest(flag: string): string {
  const name = flag.split("=")[0]!;
  const known = [...VALUE_FLAGS, ...SWITCHES];
  const best = known
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .sort((a, b) => a.distance - b.distance)[0]!;
  return best.distance <= 3 ? ` (did you mean ${best.candidate}?)` : "";
}

/**
 * Parses the arguments.
 * @throws UsageError on an unknown flag (with a did-you-mean), a missing value or a bad port
 */
export function parseCli(argv: readonly string[]): CliOptions {
  const options: CliOptions = {
    brokers: [],
    port: 9181,
    host: "127.0.0.1",
    readOnly: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if ((SWITCHES as readonly string[]).includes(flag)) {
      if (flag === "--read-only") options.readOnly = true;
      else options.help = true;
      continue;
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) {
      throw new UsageError(`unknown option ${JSON.stringify(flag)}${suggest(flag)}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
    if (flag === "--broker") options.brokers.push(value);
    else if (flag === "--results") options.results = value;
    else if (flag === "--host") options.host = value;
    else if (flag === "--base-path") options.basePath = value.replace(/\/+$/, "");
    else {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(
          `--port must be an integer from 0 to 65535, got ${JSON.stringify(value)}`,
        );
      }
      options.port = port;
    }
  }
  if (!options.help && options.brokers.length === 0)
    throw new UsageError("at least one --broker <url> is needed");
  return options;
}

/** Builds a result backend from a URL (the adapter package is imported by name). */
async function resultBackendFromUrl(url: string): Promise<ResultBackend> {
  const scheme = url.split(":")[0]!.toLowerCase();
  if (scheme !== "redis" && scheme !== "rediss") {
    throw new UsageError(
      `--results supports redis:// and rediss:// URLs, got ${JSON.stringify(scheme)}`,
    );
  }
  const name = "@dq/results-redis";
  type Module = { RedisResultBackend: new (options: { url: string }) => ResultBackend };
  // From this package, else from the working directory (an app that installed it next to us).
  const module = (await import(name).catch(async () => {
    try {
      const resolved = createRequire(path.join(process.cwd(), "index.js")).resolve(name);
      return (await import(pathToFileURL(resolved).href)) as Module;
    } catch {
      throw new UsageError(`--results ${scheme}:// needs the ${name} package: pnpm add ${name}`);
    }
  })) as Module;
  return new module.RedisResultBackend({ url });
}

/** A running dashboard command. */
export interface RunningDashboard {
  server: Server;
  dashboard: DashboardHandler;
  url: string;
  close(): Promise<void>;
}

/** Output streams of the command (tests pass their own). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * Runs the command: builds the brokers, serves the dashboard.
 * @returns the running server, or the exit status (0 after --help, 2 on a usage error, 1 on a failure)
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = processIo,
): Promise<RunningDashboard | number> {
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (error) {
    io.err(`dq-dashboard: ${errorText(error)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  const brokers: Broker[] = [];
  let resultBackend: ResultBackend | undefined;
  const closeAll = async () => {
    for (const broker of brokers) await broker.close().catch(() => undefined);
    await resultBackend?.close().catch(() => undefined);
  };
  try {
    for (const url of options.brokers) brokers.push(await brokerFromUrlAsync(url));
    if (options.results) resultBackend = await resultBackendFromUrl(options.results);
    const dashboard = createDashboard({
      brokers,
      resultBackend,
      readOnly: options.readOnly,
      basePath: options.basePath,
    });
    const server = createServer(nodeHandler(dashboard));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}${options.basePath ?? ""}/`;
    const shown = [...dashboard.sources.values()].map((s) => `${s.id} ${s.url}`).join(", ");
    io.out(
      `dq-dashboard: serving ${url} (brokers: ${shown}${options.readOnly ? "; read-only" : ""})\n`,
    );
    return {
      server,
      dashboard,
      url,
      close: async () => {
        await dashboard.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    io.err(`dq-dashboard: ${errorText(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
