import { spawnSync } from "node:child_process";
import { PrivateRedis } from "./private-redis.js";

/**
 * A Redis Cluster of the test's own: three masters on free ports, slots assigned with
 * `redis-cli --cluster create` (never the shared server). Stopped by PID in `destroy()`.
 */
export class PrivateRedisCluster {
  private constructor(readonly nodes: PrivateRedis[]) {}

  /** Starts `masters` cluster-enabled servers and joins them; resolves once the cluster is `ok`. */
  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const nodes: PrivateRedis[] = [];
    try {
      for (let i = 0; i < masters; i++)
        nodes.push(
          await PrivateRedis.start([
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
          ]),
        );
      const create = spawnSync(
        "redis-cli",
        [
          "--cluster",
          "create",
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          "--cluster-replicas",
          "0",
          "--cluster-yes",
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
      if (create.status !== 0)
        throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const states = nodes.map(
          (node) =>
            spawnSync("redis-cli", ["-p", String(node.port), "CLUSTER", "INFO"], {
              encoding: "utf8",
            }).stdout,
        );
        if (states.every((state) => state.includes("cluster_state:ok"))) break;
        if (Date.now() > deadline) throw new Error(`the cluster did not become ok within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return new PrivateRedisCluster(nodes);
    } catch (error) {
      for (const node of nodes) await node.destroy();
      throw error;
    }
  }

  /** The nodes as ioredis's `Cluster` takes them. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: "127.0.0.1", port: node.port }));
  }

  /** Kills every node and removes its dir. */
  async destroy(): Promise<void> {
    for (const node of this.nodes) await node.destroy();
  }
}
