/**
 * Logging is injected: the library never writes to the console by itself. A `Logger` is any object
 * with these four methods (pino, winston and `console` all fit); the default writes Dramatiq-style
 * lines to stderr at the level of `DQ_LOG_LEVEL` (default `info`; `silent` turns it off).
 */
export interface Logger {
  debug(message: string, ...meta: unknown[]): void;
  info(message: string, ...meta: unknown[]): void;
  warn(message: string, ...meta: unknown[]): void;
  error(message: string, ...meta: unknown[]): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, critical: 50, silent: 100 } as const;
type LevelName = keyof typeof LEVELS;

function levelFromEnv(): number {
  const name = (process.env.DQ_LOG_LEVEL ?? "info").toLowerCase();
  return name in LEVELS ? LEVELS[name as LevelName] : LEVELS.info;
}

function formatMeta(meta: unknown[]): string {
  return meta
    .map((item) =>
      item instanceof Error
        ? `\n${item.stack ?? String(item)}`
        : ` ${typeof item === "string" ? item : JSON.stringify(item)}`,
    )
    .join("");
}

/**
 * Creates the default logger for `name`: `[time] [PID n] [name] [LEVEL] message` on stderr.
 * @param name - the logger name, e.g. `dq.Worker`
 * @param write - where lines go (tests and the CLI pass their own)
 */
export function createLogger(
  name: string,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = levelFromEnv();
  const emit = (level: LevelName, message: string, meta: unknown[]) => {
    if (LEVELS[level] < threshold) return;
    write(
      `[${new Date().toISOString()}] [PID ${process.pid}] [${name}] [${level.toUpperCase()}] ${message}${formatMeta(meta)}\n`,
    );
  };
  return {
    debug: (message, ...meta) => emit("debug", message, meta),
    info: (message, ...meta) => emit("info", message, meta),
    warn: (message, ...meta) => emit("warn", message, meta),
    error: (message, ...meta) => emit("error", message, meta),
  };
}

let rootLogger: ((name: string) => Logger) | undefined;

/**
 * Returns the logger for `name`, from the factory set with `setLoggerFactory` or the default.
 * @param name - the logger name
 */
export function getLogger(name: string): Logger {
  return rootLogger ? rootLogger(name) : createLogger(name);
}

/**
 * Replaces how dq creates loggers (e.g. `(name) => pino().child({ name })`).
 * @param factory - a function from logger name to logger, or undefined for the default
 */
export function setLoggerFactory(factory: ((name: string) => Logger) | undefined): void {
  rootLogger = factory;
}
