// Multi-process totals through files: each worker process of a run writes a snapshot of its
// registry (`getMetricsAsJSON()`) to `<run dir>/<pid>.json`; the exposition process reads them
// all and sums them with prom-client's `AggregatorRegistry.aggregate()`. A file whose process is
// gone has its counters and histograms folded into `archived.json` (so totals never go down when
// a worker is restarted) and its gauges dropped (a dead process runs nothing), like
// prometheus_client's multiprocess mode does for Python Dramatiq.
import { mkdirSync } from "node:fs";
import { readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
  type RegistryContentType,
} from "prom-client";

/** The metrics of one registry, as `getMetricsAsJSON()` returns them. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** What a worker process writes. */
export interface ProcessSnapshot {
  pid: number;
  /** Epoch ms of the write. */
  writtenAt: number;
  metrics: MetricsJson;
}

/** One live process of the run, as the exposition process last read it. */
export interface ProcessSummary {
  pid: number;
  writtenAt: number;
  /** Its `dramatiq_messages_total`, summed over labels. */
  messagesTotal: number;
}

const SNAPSHOT = /^(\d+)\.json$/;
const ARCHIVE = "archived.json";

/** Writes this process's registry to `<directory>/<pid>.json` every `interval` ms and on `stop()`. */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  readonly file: string;

  /**
   * @param directory - the run directory (created if missing)
   * @param registry - the registry to snapshot
   * @param interval - ms between writes
   * @param onError - told about a failed write (the next one retries)
   */
  constructor(
    readonly directory: string,
    private readonly registry: Registry,
    private readonly interval: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.file = path.join(directory, `${process.pid}.json`);
  }

  /** Starts the periodic writes (the first one at once). */
  start(): void {
    if (this.timer) return;
    mkdirSync(this.directory, { recursive: true });
    this.timer = setInterval(() => void this.write(), this.interval);
    this.timer.unref();
    void this.write();
  }

  /** Writes one snapshot now (after any write in progress). */
  write(): Promise<void> {
    this.writing = this.writing.then(() => this.writeOnce()).catch(this.onError);
    return this.writing;
  }

  private async writeOnce(): Promise<void> {
    const snapshot: ProcessSnapshot = {
      pid: process.pid,
      writtenAt: Date.now(),
      metrics: await this.registry.getMetricsAsJSON(),
    };
    // Write then rename, so that a reader never sees half a file.
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(snapshot));
    await rename(temporary, this.file);
  }

  /** Stops the timer and writes a last snapshot, so the totals include everything until now. */
  async stop(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.write();
  }
}

/** Whether a process with this pid is running (or exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    // Gone (archived, or the run directory was removed) or being replaced: skip it this time.
    return undefined;
  }
}

/** Reads and sums the snapshots of a run directory; see the module comment. */
export class RunCollector {
  private pending: Promise<unknown> = Promise.resolve();

  /**
   * @param directory - the run directory
   * @param isAlive - whether a pid still runs (replaceable for tests)
   */
  constructor(
    readonly directory: string,
    private readonly isAlive: (pid: number) => boolean = processAlive,
  ) {}

  /** The summed registry of every process of the run, and the live processes it read. */
  collect(): Promise<{ registry: Registry<RegistryContentType>; processes: ProcessSummary[] }> {
    // One collection at a time: two scrapes must not archive the same dead process twice.
    const next = this.pending.then(() => this.collectOnce());
    this.pending = next.catch(() => undefined);
    return next;
  }

  private async collectOnce(): Promise<{
    registry: Registry<RegistryContentType>;
    processes: ProcessSummary[];
  }> {
    mkdirSync(this.directory, { recursive: true });
    const names = (await readdir(this.directory)).filter((name) => SNAPSHOT.test(name));
    const live: ProcessSnapshot[] = [];
    for (const name of names) {
      const snapshot = await readJson<ProcessSnapshot>(path.join(this.directory, name));
      if (!snapshot) continue;
      if (this.isAlive(snapshot.pid)) live.push(snapshot);
      else await this.archive(name, snapshot);
    }
    const archived =
      (await readJson<{ metrics: MetricsJson }>(path.join(this.directory, ARCHIVE)))?.metrics ?? [];
    const registry = AggregatorRegistry.aggregate([
      archived,
      ...live.map((snapshot) => snapshot.metrics),
    ]);
    const processes = live.map((snapshot) => ({
      pid: snapshot.pid,
      writtenAt: snapshot.writtenAt,
      messagesTotal: sumOf(snapshot.metrics, "dramatiq_messages_total"),
    }));
    return { registry, processes };
  }

  /** Folds a dead process's counters and histograms into the archive, then removes its file. */
  private async archive(name: string, snapshot: ProcessSnapshot): Promise<void> {
    const archiveFile = path.join(this.directory, ARCHIVE);
    const archived = (await readJson<{ metrics: MetricsJson }>(archiveFile))?.metrics ?? [];
    const kept = snapshot.metrics.filter((metric) => String(metric.type) !== "gauge");
    const merged = await AggregatorRegistry.aggregate([archived, kept]).getMetricsAsJSON();
    const temporary = `${archiveFile}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify({ metrics: merged }));
    await rename(temporary, archiveFile);
    await unlink(path.join(this.directory, name)).catch(() => undefined);
  }
}

/** The sum of a metric's values over its labels (0 when absent). */
export function sumOf(metrics: MetricsJson, name: string): number {
  return (metrics.find((metric) => metric.name === name)?.values ?? []).reduce(
    (total, value) => total + value.value,
    0,
  );
}
