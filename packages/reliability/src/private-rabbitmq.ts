import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { amqpAnswers, freePort, waitUntil } from "./net-util.js";
import { exited, registerTempDir, spawnTracked, stopChild, waitExit } from "./processes.js";

const RABBITMQ_SERVER =
  process.env.DQ_REL_RABBITMQ_SERVER ?? "/usr/lib/rabbitmq/bin/rabbitmq-server";

/** PIDs of the processes in process group `pgid` whose command name is `comm` (Linux /proc). */
function groupMembers(pgid: number, comm: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ")".
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      if (Number(fields[2]) === pgid && name === comm) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/**
 * A RabbitMQ node of the suite's own: its own node name, AMQP and distribution ports, its own
 * `epmd` on a free port, its own data, log and cookie in a temporary directory, no plugins and
 * none of /etc/rabbitmq's settings. Started in a process group of its own; stopped with SIGTERM to
 * its `beam.smp` (a clean shutdown that keeps durable queues and persistent messages), started
 * again with the same data, and killed by process group. Never the shared node on 5672.
 */
export class PrivateRabbitmq {
  private node: ChildProcess | undefined;
  private epmd: ChildProcess | undefined;
  /** How long each boot took, in ms. */
  readonly bootTimes: number[] = [];
  /** Stops that needed SIGKILL. */
  uncleanStops = 0;

  private constructor(
    readonly port: number,
    private readonly distPort: number,
    private readonly epmdPort: number,
    readonly dir: string,
    readonly nodeName: string,
    private readonly logFile: string,
  ) {}

  /** The URL to give clients (guest/guest is allowed on loopback). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Starts epmd and a fresh node; waits until the node answers on its AMQP port. */
  static async start(
    options: { logFile?: string; bootTimeout?: number } = {},
  ): Promise<PrivateRabbitmq> {
    const dir = registerTempDir(mkdtempSync(path.join(tmpdir(), "dqrel-rabbitmq-")));
    const nodeName = `dqrel-${process.pid}-${Math.random().toString(36).slice(2, 8)}@localhost`;
    const server = new PrivateRabbitmq(
      await freePort(),
      await freePort(),
      await freePort(),
      dir,
      nodeName,
      options.logFile ?? path.join(dir, "node.log"),
    );
    writeFileSync(path.join(dir, "enabled_plugins"), "[].\n");
    writeFileSync(path.join(dir, "rabbitmq-env.conf"), "");
    writeFileSync(
      path.join(dir, "rabbitmq.conf"),
      `listeners.tcp.default = 127.0.0.1:${server.port}\n`,
    );
    mkdirSync(path.join(dir, "home"));
    server.epmd = spawnTracked(
      "epmd",
      ["-port", String(server.epmdPort), "-address", "127.0.0.1"],
      { logFile: server.logFile },
    );
    await server.up(options.bootTimeout);
    return server;
  }

  private env(): NodeJS.ProcessEnv {
    const { dir } = this;
    return {
      ...process.env,
      HOME: path.join(dir, "home"),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      ERL_EPMD_PORT: String(this.epmdPort),
      ERL_EPMD_ADDRESS: "127.0.0.1",
      RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
      RABBITMQ_LOG_BASE: path.join(dir, "log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
      RABBITMQ_CONF_ENV_FILE: path.join(dir, "rabbitmq-env.conf"),
      RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq.conf"),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, "advanced.config"),
    };
  }

  /** Starts the node (again, with the same data); waits until it answers (default 90 s). */
  async up(timeout = 90_000): Promise<void> {
    if (this.node && !exited(this.node)) return;
    const started = Date.now();
    this.node = spawnTracked(RABBITMQ_SERVER, [], {
      env: this.env(),
      cwd: this.dir,
      logFile: this.logFile,
      group: true,
    });
    const node = this.node;
    await waitUntil(
      `RabbitMQ node ${this.nodeName} on port ${this.port}`,
      timeout,
      async () => {
        if (exited(node))
          throw new Error(
            `RabbitMQ node ${this.nodeName} exited (code ${node.exitCode}); see ${this.logFile}`,
          );
        return amqpAnswers(this.port);
      },
      200,
    );
    this.bootTimes.push(Date.now() - started);
  }

  /** Stops the node cleanly (SIGTERM to its beam.smp), killing its group after `timeout` ms. */
  async down(timeout = 30_000): Promise<void> {
    const node = this.node;
    if (!node || node.pid === undefined) return;
    if (!exited(node)) {
      for (const pid of groupMembers(node.pid, "beam.smp")) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // Gone already.
        }
      }
    }
    const clean = await waitExit(node, timeout);
    // Whatever is left of the group (helper processes, or the node itself past the timeout) is killed.
    await stopChild(node, "SIGKILL", 5000, true);
    if (!clean) this.uncleanStops++;
    await waitUntil(
      `port ${this.port} to close`,
      10_000,
      async () => !(await amqpAnswers(this.port)),
      200,
    );
  }

  /** Stops the node, waits `gapMs`, starts it again. */
  async restart(gapMs = 500): Promise<void> {
    await this.down();
    await sleep(gapMs);
    await this.up();
  }

  /** Kills the node's group and epmd, and removes the directory. */
  async destroy(): Promise<void> {
    if (this.node) await stopChild(this.node, "SIGKILL", 5000, true);
    if (this.epmd) await stopChild(this.epmd, "SIGKILL", 5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
