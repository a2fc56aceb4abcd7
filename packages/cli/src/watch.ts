import { readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { Logger } from "@dq/core";

const SOURCE = /\.(c|m)?[jt]sx?$|\.json$/;
const IGNORED = /(^|[/\\])(node_modules|\.git|dist)([/\\]|$)/;

/**
 * Calls `onChange` (debounced) when a source file under `dir` changes: `fs.watch` recursive where
 * the platform supports it, else polling modification times every second.
 */
export class SourceWatcher {
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private mtimes = new Map<string, number>();

  constructor(
    private readonly dir: string,
    private readonly onChange: () => void,
    private readonly logger: Logger,
    private readonly delay = 300,
  ) {}

  start(): void {
    try {
      this.watcher = watch(this.dir, { recursive: true }, (_event, filename) => {
        if (filename && SOURCE.test(filename) && !IGNORED.test(filename)) this.changed(filename);
      });
      this.watcher.on("error", (error) => this.logger.error(`Watching ${this.dir} failed.`, error));
      this.logger.info(`Watching ${this.dir} for changes.`);
    } catch (error) {
      this.logger.info(`Polling ${this.dir} for changes (fs.watch: ${(error as Error).message}).`);
      this.mtimes = this.scan();
      this.poller = setInterval(() => this.poll(), 1000);
    }
  }

  private changed(file: string): void {
    this.logger.debug(`Changed: ${file}`);
    clearTimeout(this.debounce);
    this.debounce = setTimeout(this.onChange, this.delay);
  }

  private scan(dir = this.dir, into = new Map<string, number>()): Map<string, number> {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (IGNORED.test(file)) continue;
      if (entry.isDirectory()) this.scan(file, into);
      else if (SOURCE.test(entry.name)) into.set(file, statSync(file).mtimeMs);
    }
    return into;
  }

  private poll(): void {
    const now = this.scan();
    for (const [file, mtime] of now) if (this.mtimes.get(file) !== mtime) this.changed(file);
    for (const file of this.mtimes.keys()) if (!now.has(file)) this.changed(file);
    this.mtimes = now;
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poller);
    clearTimeout(this.debounce);
  }
}
