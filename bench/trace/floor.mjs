// dq's design without dq's code: B3's round trip with a bare ioredis client calling dq's own
// dispatch script (enqueue hands off by Pub/Sub, ack_fetch re-registers). The harness enqueues one
// job at a time and waits for the worker's PUBLISH; the worker acks in one more round trip, then
// publishes. (The floor of any Redis queue, a bare list, is the bench's redis-floor system.)
// node bench/trace/floor.mjs [jobs]   (build the bench first: it imports broker-redis's script)
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { DISPATCH_SCRIPT } from "../../packages/broker-redis/dist/dispatch-script.js";

const ns = process.env.FLOOR_NS ?? `dqfloor-${process.pid}`;
const body = JSON.stringify({
  queue_name: "q",
  actor_name: "noop",
  args: [1],
  kwargs: {},
  options: {},
  message_id: "3c6de6c1-6a6a-4b6e-8a70-4e0f1e7f8b8a",
  message_timestamp: 0,
});
const call = (command) => [1, ns, command, Date.now(), "q", "floor", 60000, 604800000, "0", 3999];

if (process.argv[2] === "worker") {
  const [commands, publisher, subscriber] = [new Redis(), new Redis(), new Redis()];
  subscriber.on("error", (error) => console.error(`worker subscriber: ${error.message}`));
  const sha = await commands.script("LOAD", DISPATCH_SCRIPT);
  const finish = async (id) => {
    await commands.evalsha(sha, ...call("ack_fetch"), "16", "1", id);
    await publisher.publish(`${ns}:done`, id);
  };
  subscriber.on("messageBuffer", (_channel, data) => {
    const [, id] = data.toString().split("\n");
    if (id === "stop") process.exit(0);
    void finish(id);
  });
  await subscriber.subscribe(`${ns}:__handoff__.floor`);
  await commands.evalsha(sha, ...call("fetch"), "16", "1"); // registers for hand-offs
  process.send?.("ready");
} else {
  const jobs = Number(process.argv[2] ?? 2000);
  const worker = fork(fileURLToPath(import.meta.url), ["worker"], {
    env: { ...process.env, FLOOR_NS: ns },
  });
  await new Promise((resolve) => worker.once("message", resolve));
  const [producer, subscriber] = [new Redis(), new Redis()];
  const sha = await producer.script("LOAD", DISPATCH_SCRIPT);
  let arrived = () => {};
  subscriber.on("message", () => arrived());
  await subscriber.subscribe(`${ns}:done`);
  const enqueue = (id) => producer.evalsha(sha, ...call("enqueue"), id, body);
  const latencies = [];
  for (let i = -200; i < jobs; i++) {
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`job ${i} did not complete within 10 s (a lost hand-off?)`)),
        10_000,
      );
      arrived = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const start = performance.now();
    await enqueue(String(i));
    await done;
    if (i >= 0) latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `dq's scripts, bare client: p50 ${latencies[Math.floor(jobs / 2)].toFixed(3)} ms, p99 ${latencies[Math.floor(jobs * 0.99)].toFixed(3)} ms`,
  );
  await enqueue("stop");
  const keys = await producer.keys(`${ns}:*`);
  if (keys.length) await producer.del(...keys);
  process.exit(0);
}
