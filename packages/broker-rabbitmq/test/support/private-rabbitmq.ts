/**
 * Private RabbitMQ nodes for the HA and TLS tests: one or more nodes of this test process, each with
 * its own node name (`harabbit<pid><letter>@localhost`), AMQP (and TLS) port and distribution port
 * from `freePort()`, a private `epmd` on a free port shared by the nodes of one cluster (the shared
 * node's epmd on 4369 is never touched), their own data/log dirs in a temporary directory, one
 * Erlang cookie, no plugins and none of /etc/rabbitmq's settings. Stopped by PID (the process group
 * each node was started in) in `destroy()`. Derived from packages/reliability's `PrivateRabbitmq`.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "@dq/core/testing";

const RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl";
const run = promisify(execFile);

/** Every process started here, killed by process group when the test process exits. */
const started = new Set<ChildProcess>();
let hooked = false;
function track(child: ChildProcess): ChildProcess {
  started.add(child);
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

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
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

/** Whether something answers an AMQP protocol header on the port. */
export function amqpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("AMQP\x00\x00\x09\x01"));
    socket.on("data", () => done(true));
  });
}

async function waitUntil(what: string, timeout: number, ready: () => Promise<boolean>) {
  const deadline = Date.now() + timeout;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What one node is configured with, beyond its ports. */
export interface NodeConfig {
  /** Extra lines of rabbitmq.conf (the TCP listener is always there). */
  conf?: (node: PrivateNode) => string[];
  /** The `rabbit` application's settings in advanced.config, as Erlang terms. */
  advanced?: string[];
  /** Also give the node a TLS port (for `listeners.ssl.default` in `conf`). */
  tls?: boolean;
}

/** One private node. */
export class PrivateNode {
  process: ChildProcess | undefined;
  /** How long the last boot took, in ms. */
  bootMs = 0;

  constructor(
    readonly cluster: PrivateCluster,
    readonly name: string,
    readonly port: number,
    readonly tlsPort: number,
    private readonly distPort: number,
    readonly dir: string,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

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
    const log = openSync(path.join(this.dir, "node.out"), "a");
    const child = spawn(RABBITMQ_SERVER, [], {
      env: this.env(),
      cwd: this.dir,
      stdio: ["ignore", log, log],
      detached: true,
    });
    closeSync(log);
    child.on("error", () => undefined);
    this.process = track(child);
    await waitUntil(`RabbitMQ node ${this.name} on port ${this.port}`, timeout, async () => {
      if (exited(child))
        throw new Error(
          `RabbitMQ node ${this.name} exited; the end of ${this.dir}/node.out:\n${tailOf(path.join(this.dir, "node.out"))}`,
        );
      return amqpAnswers(this.port);
    });
    this.bootMs = Date.now() - begun;
  }

  /** Stops the node: SIGTERM to its process group (a clean shutdown), SIGKILL after `timeout`. */
  async down(timeout = 30_000): Promise<void> {
    const child = this.process;
    if (!child || child.pid === undefined || exited(child)) return;
    // SIGTERM to beam.smp alone: a clean shutdown (the whole group would take its helpers down first).
    for (const pid of groupMembers(child.pid, "beam.smp")) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Gone already.
      }
    }
    await waitUntil(`${this.name} to stop`, timeout, async () => exited(child)).catch(() =>
      killGroup(child),
    );
    killGroup(child);
    await waitUntil(
      `port ${this.port} to close`,
      15_000,
      async () => !(await amqpAnswers(this.port)),
    );
  }

  /** Runs rabbitmqctl against this node. */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await run(RABBITMQCTL, ["-n", this.name, ...args], {
      env: this.env(),
      timeout: 120_000,
    });
    return stdout;
  }
}

/** A private epmd and the nodes that register with it (one node, or a cluster). */
export class PrivateCluster {
  readonly nodes: PrivateNode[] = [];
  private epmd: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly epmdPort: number,
  ) {}

  get home(): string {
    return path.join(this.dir, "home");
  }

  /**
   * Starts `count` nodes at once and, when more than one, joins the others to the first.
   * @param tag - a letter or word unique to the test file, in the node names
   */
  static async start(tag: string, count: number, config: NodeConfig = {}): Promise<PrivateCluster> {
    // Booting private Erlang nodes on a loaded machine fails now and then for reasons outside the
    // code under test (a port taken between freePort() and the bind): one more try, logged.
    try {
      return await PrivateCluster.startOnce(tag, count, config);
    } catch (error) {
      process.stderr.write(`private RabbitMQ start failed, trying once more: ${String(error)}\n`);
      return await PrivateCluster.startOnce(tag, count, config);
    }
  }

  private static async startOnce(
    tag: string,
    count: number,
    config: NodeConfig,
  ): Promise<PrivateCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), `harabbit-${tag}-`));
    const cluster = new PrivateCluster(dir, await freePort());
    mkdirSync(cluster.home);
    const cookie = path.join(cluster.home, ".erlang.cookie");
    writeFileSync(cookie, `HARABBIT${process.pid}${tag.toUpperCase()}COOKIE`);
    chmodSync(cookie, 0o400);
    const epmd = spawn("epmd", ["-port", String(cluster.epmdPort), "-address", "127.0.0.1"], {
      stdio: "ignore",
      detached: true,
    });
    epmd.on("error", () => undefined);
    cluster.epmd = track(epmd);
    await waitUntil(`epmd on port ${cluster.epmdPort}`, 10_000, () => portOpen(cluster.epmdPort));
    for (let i = 0; i < count; i++) {
      const letter = String.fromCharCode(97 + i);
      const nodeDir = path.join(dir, letter);
      mkdirSync(nodeDir);
      const node = new PrivateNode(
        cluster,
        `harabbit${process.pid}${tag}${letter}@localhost`,
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
      writeFileSync(
        path.join(nodeDir, "advanced.config"),
        `[{rabbit, [${(config.advanced ?? []).join(", ")}]}].\n`,
      );
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
        await waitUntil(`${node.name} to serve again`, 60_000, () => amqpAnswers(node.port));
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  /** Kills every node's process group and the epmd (by PID), and removes the directory. */
  async destroy(): Promise<void> {
    for (const node of this.nodes) await node.down(15_000).catch(() => undefined);
    for (const node of this.nodes) if (node.process) killGroup(node.process);
    if (this.epmd) killGroup(this.epmd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
