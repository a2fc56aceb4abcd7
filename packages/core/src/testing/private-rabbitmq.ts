import { execFile, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { amqpAnswers, freePort, portOpen } from "./net.js";
import { waitFor } from "./wait.js";

/** Where Debian's rabbitmq-server package puts the server (and `rabbitmqctl` next to it). */
export const RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const run = promisify(execFile);

/** Whether `server` (a rabbitmq-server script) exists. */
export function rabbitmqServerAvailable(server = RABBITMQ_SERVER): boolean {
  return existsSync(server);
}

/** Every process started here, killed by process group when the test process exits. */
const started = new Set<ChildProcess>();
let hooked = false;
function track(child: ChildProcess, config: PrivateRabbitmqConfig): ChildProcess {
  child.on("error", () => undefined);
  started.add(child);
  config.onSpawn?.(child);
  if (!hooked) {
    hooked = true;
    const killAll = () => {
      for (const proc of started) killGroup(proc);
    };
    process.on("exit", killAll);
    for (const name of ["SIGINT", "SIGTERM"] as const) {
      process.once(name, () => {
        killAll();
        process.kill(process.pid, name);
      });
    }
  }
  return child;
}

/** The last lines of a log, for an error message (the dir is removed afterwards). */
function tailOf(file: string, lines = 25): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no output)";
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Gone already.
  }
}

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

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the nodes of a `PrivateRabbitmqCluster` are configured, beyond their ports. */
export interface PrivateRabbitmqConfig {
  /** Extra lines of rabbitmq.conf (the TCP listener is always there). */
  conf?: (node: PrivateRabbitmqNode) => string[];
  /** The `rabbit` application's settings in advanced.config, as Erlang terms. */
  advanced?: string[];
  /** Also give each node a TLS port (for `listeners.ssl.default` in `conf`). */
  tls?: boolean;
  /** The rabbitmq-server script (default `RABBITMQ_SERVER`); `rabbitmqctl` is taken from its dir. */
  server?: string;
  /** Where each node's output is appended (default `node.out` in the node's dir). */
  logFile?: string;
  /** Called with every process started (epmd, each node, each leading a process group of its own). */
  onSpawn?: (child: ChildProcess) => void;
}

/** One private node of a `PrivateRabbitmqCluster`. */
export class PrivateRabbitmqNode {
  process: ChildProcess | undefined;
  /** How long each boot took, in ms. */
  readonly bootTimes: number[] = [];

  constructor(
    readonly cluster: PrivateRabbitmqCluster,
    readonly name: string,
    readonly port: number,
    readonly tlsPort: number,
    private readonly distPort: number,
    readonly dir: string,
  ) {}

  /** The URL to give clients (guest/guest is allowed on loopback). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Where the node's output goes. */
  get logFile(): string {
    return this.cluster.config.logFile ?? path.join(this.dir, "node.out");
  }

  /** The environment the node and `rabbitmqctl` run with: its own name, ports, dirs and config. */
  env(): NodeJS.ProcessEnv {
    const { dir } = this;
    return {
      ...process.env,
      HOME: this.cluster.home,
      RABBITMQ_NODENAME: this.name,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.distPort),
      ERL_EPMD_PORT: String(this.cluster.epmdPort),
      ERL_EPMD_ADDRESS: "127.0.0.1",
      RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
      RABBITMQ_LOG_BASE: path.join(dir, "log"),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
      RABBITMQ_CONF_ENV_FILE: path.join(dir, "rabbitmq-env.conf"),
      RABBITMQ_CONFIG_FILE: path.join(dir, "rabbitmq.conf"),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, "advanced.config"),
    };
  }

  /** Starts the node (again, with its data) and waits until it answers on its AMQP port. */
  async up(timeout = 120_000): Promise<void> {
    if (this.process && !exited(this.process)) return;
    const begun = Date.now();
    const log = openSync(this.logFile, "a");
    const child = spawn(this.cluster.server, [], {
      env: this.env(),
      cwd: this.dir,
      stdio: ["ignore", log, log],
      detached: true,
    });
    closeSync(log);
    this.process = track(child, this.cluster.config);
    const what = `RabbitMQ node ${this.name} on port ${this.port}`;
    const ready = async () => {
      if (exited(child))
        throw new Error(
          `RabbitMQ node ${this.name} exited; the end of ${this.logFile}:\n${tailOf(this.logFile)}`,
        );
      return amqpAnswers(this.port);
    };
    await waitFor(ready, what, timeout, 250);
    this.bootTimes.push(Date.now() - begun);
  }

  /** Stops the node: SIGTERM to its beam.smp (a clean shutdown), its group SIGKILLed after `timeout`. */
  async down(timeout = 30_000): Promise<void> {
    const child = this.process;
    if (!child || child.pid === undefined) return;
    // SIGTERM to beam.smp alone: a clean shutdown (the whole group would take its helpers down first).
    for (const pid of exited(child) ? [] : groupMembers(child.pid, "beam.smp")) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Gone already.
      }
    }
    await waitFor(() => exited(child), `${this.name} to stop`, timeout, 250).catch(() => undefined);
    // Whatever is left of the group (helper processes, or the node itself past the timeout) goes.
    killGroup(child);
    const closed = async () => !(await amqpAnswers(this.port));
    await waitFor(closed, `port ${this.port} to close`, 15_000, 250);
  }

  /** Stops the node, waits `gapMs`, starts it again (with the same data). */
  async restart(gapMs = 500): Promise<void> {
    await this.down();
    await sleep(gapMs);
    await this.up();
  }

  /** Runs rabbitmqctl against this node. */
  async ctl(...args: string[]): Promise<string> {
    const ctl = path.join(path.dirname(this.cluster.server), "rabbitmqctl");
    const { stdout } = await run(ctl, ["-n", this.name, ...args], {
      env: this.env(),
      timeout: 120_000,
    });
    return stdout;
  }
}

/**
 * Private RabbitMQ nodes for tests that stop, restart, cluster or reconfigure a server: one or
 * more nodes of this test process, each with its own node name (`dqrabbit<pid><tag><letter>`),
 * AMQP (and TLS) port and distribution port from `freePort()`, a private `epmd` on a free port
 * shared by the nodes of one cluster (the shared node's epmd on 4369 is never touched), their own
 * data and log dirs in a temporary directory, one Erlang cookie, no plugins and none of
 * /etc/rabbitmq's settings. Every process is stopped by PID (the process group it was started in)
 * in `destroy()`, and when the test process exits. Never the shared node on 5672.
 */
export class PrivateRabbitmqCluster {
  readonly nodes: PrivateRabbitmqNode[] = [];
  private epmd: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly epmdPort: number,
    readonly config: PrivateRabbitmqConfig,
  ) {}

  get home(): string {
    return path.join(this.dir, "home");
  }

  /** The rabbitmq-server script the nodes run. */
  get server(): string {
    return this.config.server ?? RABBITMQ_SERVER;
  }

  /**
   * Starts `count` nodes at once and, when more than one, joins the others to the first.
   * @param tag - a letter or word unique to the test file, in the node names and the dir
   */
  static async start(
    tag: string,
    count = 1,
    config: PrivateRabbitmqConfig = {},
  ): Promise<PrivateRabbitmqCluster> {
    // Booting private Erlang nodes on a loaded machine fails now and then for reasons outside the
    // code under test (a port taken between freePort() and the bind): one more try, logged.
    try {
      return await PrivateRabbitmqCluster.startOnce(tag, count, config);
    } catch (error) {
      process.stderr.write(`private RabbitMQ start failed, trying once more: ${String(error)}\n`);
      return await PrivateRabbitmqCluster.startOnce(tag, count, config);
    }
  }

  private static async startOnce(
    tag: string,
    count: number,
    config: PrivateRabbitmqConfig,
  ): Promise<PrivateRabbitmqCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), `dq-rabbitmq-${tag}-`));
    const cluster = new PrivateRabbitmqCluster(dir, await freePort(), config);
    mkdirSync(cluster.home);
    const cookie = path.join(cluster.home, ".erlang.cookie");
    writeFileSync(cookie, `DQRABBIT${process.pid}${tag.toUpperCase()}COOKIE`);
    chmodSync(cookie, 0o400);
    const epmdArgs = ["-port", String(cluster.epmdPort), "-address", "127.0.0.1"];
    cluster.epmd = track(spawn("epmd", epmdArgs, { stdio: "ignore", detached: true }), config);
    await waitFor(() => portOpen(cluster.epmdPort), `epmd on ${cluster.epmdPort}`, 10_000, 100);
    for (let i = 0; i < count; i++) {
      const letter = String.fromCharCode(97 + i);
      const nodeDir = path.join(dir, letter);
      mkdirSync(nodeDir);
      const node = new PrivateRabbitmqNode(
        cluster,
        `dqrabbit${process.pid}${tag}${letter}@localhost`,
        await freePort(),
        config.tls ? await freePort() : 0,
        await freePort(),
        nodeDir,
      );
      writeFileSync(path.join(nodeDir, "enabled_plugins"), "[].\n");
      writeFileSync(path.join(nodeDir, "rabbitmq-env.conf"), "");
      const conf = [
        `listeners.tcp.default = 127.0.0.1:${node.port}`,
        ...(config.conf?.(node) ?? []),
      ];
      writeFileSync(path.join(nodeDir, "rabbitmq.conf"), `${conf.join("\n")}\n`);
      const advanced = `[{rabbit, [${(config.advanced ?? []).join(", ")}]}].\n`;
      writeFileSync(path.join(nodeDir, "advanced.config"), advanced);
      cluster.nodes.push(node);
    }
    try {
      await Promise.all(cluster.nodes.map((node) => node.up()));
      const [first, ...rest] = cluster.nodes;
      for (const node of rest) {
        await node.ctl("stop_app");
        await node.ctl("join_cluster", first!.name);
        await node.ctl("start_app");
      }
      for (const node of rest)
        await waitFor(() => amqpAnswers(node.port), `${node.name} to serve again`, 60_000, 250);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** Stops every node, kills every node's process group and the epmd (by PID), removes the dir. */
  async destroy(): Promise<void> {
    for (const node of this.nodes) await node.down(15_000).catch(() => undefined);
    for (const node of this.nodes) if (node.process) killGroup(node.process);
    if (this.epmd) killGroup(this.epmd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
