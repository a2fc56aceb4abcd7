import { closeSync, openSync, writeSync } from "node:fs";

/** Where the supervisor writes its own log lines and those of every child process. */
export interface LogSink {
  write(line: string): void;
  close(): void;
}

/** Lines go to stderr, or are appended to `file` (`--log-file`), written synchronously. */
export function createLogSink(file: string | undefined): LogSink {
  if (!file) return { write: (line) => process.stderr.write(line), close: () => undefined };
  const fd = openSync(file, "a", 0o644);
  return {
    write: (line) => {
      writeSync(fd, line);
    },
    close: () => closeSync(fd),
  };
}
