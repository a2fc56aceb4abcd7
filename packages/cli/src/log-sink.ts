import { closeSync, openSync, writeSync } from "node:fs";

/** Where the supervisor writes its own log lines; child processes write to `fd` directly. */
export interface LogSink {
  /** The log file's descriptor (opened for appending), handed to children as their stderr; undefined for stderr. */
  readonly fd: number | undefined;
  write(line: string): void;
  close(): void;
}

/** Lines go to stderr, or are appended to `file` (`--log-file`), written synchronously. */
export function createLogSink(file: string | undefined): LogSink {
  if (!file)
    return {
      fd: undefined,
      write: (line) => void process.stderr.write(line),
      close: () => undefined,
    };
  const fd = openSync(file, "a", 0o644);
  return {
    fd,
    write: (line) => {
      writeSync(fd, line);
    },
    close: () => closeSync(fd),
  };
}
