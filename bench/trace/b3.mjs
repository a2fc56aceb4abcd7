// One B3 measurement of one system, as the bench runs it (build the bench first):
//   node bench/trace/b3.mjs dq|bullmq|bee-queue|dq-rabbitmq|redis-floor [jobs]
// Under trace.cjs: rm -f /tmp/dq-trace-*; NODE_OPTIONS="--require ./bench/trace/trace.cjs" node bench/trace/b3.mjs dq
import { roundTrip } from "../dist/cases.js";
import { loadDriver } from "../dist/systems/index.js";

const system = process.argv[2] ?? "dq";
const driver = await loadDriver(system);
const samples = await roundTrip(driver, {
  redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  amqpUrl: process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672",
  latencyJobs: Number(process.argv[3] ?? 500),
});
console.log(system, samples.map((sample) => `${sample.key}=${sample.value.toFixed(3)}`).join(" "));
process.exit(0);
