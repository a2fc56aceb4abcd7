import type { ServerResponse } from "node:http";
import type { Logger } from "@dq/core";
import type { Overview } from "./api-reads.js";

/**
 * Server-Sent Events: `overview` every interval while at least one client is connected (nothing
 * is read while nobody watches), `changed` after an action.
 */
export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private pushing = false;

  constructor(
    private readonly overview: () => Promise<Overview>,
    private readonly interval: number,
    private readonly logger: Logger,
  ) {}

  /** How many clients are connected. */
  get size(): number {
    return this.clients.size;
  }

  /** Takes a client: headers, a first overview, then pushes until it disconnects. */
  add(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-content-type-options": "nosniff",
      "x-accel-buffering": "no",
    });
    res.write(`retry: 3000\n\n`);
    this.clients.add(res);
    const remove = () => this.remove(res);
    res.on("close", remove);
    res.on("error", remove);
    void this.push([res]);
    if (!this.timer) {
      this.timer = setInterval(() => void this.push([...this.clients]), this.interval);
      this.timer.unref();
    }
  }

  private remove(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async push(targets: ServerResponse[]): Promise<void> {
    if (targets.length === 0) return;
    if (this.pushing && targets.length > 1) return; // the previous round is still reading
    this.pushing = true;
    try {
      const body = await this.overview();
      this.send("overview", body, targets);
    } catch (error) {
      this.logger.debug("Could not push the overview.", error);
    } finally {
      this.pushing = false;
    }
  }

  /** Sends `changed` `{ broker, queue }` to every client. */
  changed(broker: string, queue: string): void {
    this.send("changed", { broker, queue }, [...this.clients]);
  }

  private send(event: string, data: unknown, targets: ServerResponse[]): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of targets) if (this.clients.has(res) && !res.writableEnded) res.write(frame);
  }

  /** Ends every stream. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
