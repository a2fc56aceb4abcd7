import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildConfig, ChildMessage } from "./protocol.js";

const CHILD = fileURLToPath(new URL("./child.js", import.meta.url));

/** A worker child process and the messages it sends, awaited by type. */
export class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly inbox: ChildMessage[] = [];
  private waiter: (() => void) | undefined;
  private exited: string | undefined;

  /** @param profileDir - run the child under `node --cpu-prof`, writing its profile there */
  constructor(config: ChildConfig, profileDir?: string) {
    this.child = fork(CHILD, [JSON.stringify(config)], {
      execArgv: profileDir
        ? [...process.execArgv, "--cpu-prof", `--cpu-prof-dir=${profileDir}`]
        : process.execArgv,
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, DQ_LOG_LEVEL: process.env.DQ_LOG_LEVEL ?? "warn" },
    });
    let stderr = "";
    this.child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    this.child.on("message", (message: ChildMessage) => {
      this.inbox.push(message);
      this.waiter?.();
    });
    this.child.on("exit", (code, signal) => {
      this.exited = `worker child exited (code ${code}, signal ${signal})${stderr ? `: ${stderr.trim()}` : ""}`;
      this.waiter?.();
    });
  }

  /**
   * Waits for the next message of `type`.
   * @throws Error when the child reports an error, exits first, or `timeout` ms pass
   */
  async waitFor<T extends ChildMessage["type"]>(
    type: T,
    timeout: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const index = this.inbox.findIndex(
        (message) => message.type === type || message.type === "error",
      );
      if (index >= 0) {
        const [message] = this.inbox.splice(index, 1);
        if (message!.type === "error") throw new Error(`worker child failed: ${message!.message}`);
        return message as Extract<ChildMessage, { type: T }>;
      }
      if (this.exited) throw new Error(this.exited);
      const rest = deadline - Date.now();
      if (rest <= 0)
        throw new Error(`timed out after ${timeout} ms waiting for the worker child's "${type}"`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, rest);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Asks the child to stop its worker; @returns its peak RSS in bytes. */
  async stop(timeout = 30_000): Promise<number> {
    if (!this.exited && this.child.connected) this.child.send({ type: "stop" });
    try {
      const { peakRss } = await this.waitFor("stopped", timeout);
      return peakRss;
    } finally {
      this.kill();
    }
  }

  /** Ends the child if it is still running (after a failure or a timeout). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // Give it a moment to exit by itself after "stopped".
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 2000);
      timer.unref();
      this.child.once("exit", () => clearTimeout(timer));
    }
  }
}
