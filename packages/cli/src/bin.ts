#!/usr/bin/env node
// The `dq` command: parse the arguments, hold the pid file, resolve the modules, supervise.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createLogger } from "@dq/core";
import { parseCliArgs, USAGE, UsageError, type CliOptions } from "./args.js";
import { resolveInstalled } from "./adapters.js";
import { createLogSink } from "./log-sink.js";
import { ModuleLoadError, resolveModule } from "./modules.js";
import { guardPipes } from "./pipes.js";
import { metricsAddress } from "./prometheus.js";
import { acquirePidFile, PidFileError, releasePidFile } from "./pid-file.js";
import { Supervisor, timingsFromEnv } from "./supervisor.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function fail(code: number, message: string, usage = false): number {
  process.stderr.write(`dq: error: ${message}\n${usage ? "Run `dq --help` for usage.\n" : ""}`);
  return code;
}

async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return fail(2, error.message, true);
    throw error;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  let metrics;
  try {
    metrics = metricsAddress(options.metrics);
    timingsFromEnv();
  } catch (error) {
    return fail(2, (error as Error).message);
  }
  let modules;
  try {
    modules = options.modules.map((given) => resolveModule(given, options.paths));
  } catch (error) {
    if (error instanceof ModuleLoadError) return fail(2, error.message);
    throw error;
  }
  if (options.scheduler && !resolveInstalled("@dq/scheduler", modules))
    return fail(2, "--scheduler needs the @dq/scheduler package: install it next to your modules");
  if (!options.skipLogging)
    process.env.DQ_LOG_LEVEL = options.verbose > 0 ? "debug" : process.env.DQ_LOG_LEVEL || "info";
  if (options.pidFile) {
    try {
      acquirePidFile(options.pidFile);
    } catch (error) {
      if (error instanceof PidFileError) return fail(4, error.message);
      throw error;
    }
  }
  const sink = createLogSink(options.logFile);
  try {
    const logger = createLogger("dq.MainProcess", (line) => sink.write(line));
    const entries = {
      worker: fileURLToPath(new URL("./worker-process.js", import.meta.url)),
      fork: fileURLToPath(new URL("./fork-process.js", import.meta.url)),
      scheduler: fileURLToPath(new URL("./scheduler-fork.js", import.meta.url)),
    };
    return await new Supervisor(
      options,
      modules,
      entries,
      sink,
      logger,
      timingsFromEnv(),
      metrics,
    ).run();
  } finally {
    if (options.pidFile) releasePidFile(options.pidFile);
    sink.close();
  }
}

guardPipes();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`dq: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
