// A project outside the dq workspace: @dq/core, @dq/broker-redis and @dq/results-redis installed
// with npm from the tarballs of scripts/pack.sh. The broker comes from DQ_BROKER_URL through
// getBrokerAsync(), which imports @dq/broker-redis itself; a pipeline and a group run on Redis,
// with their results stored in Redis. Exits 0 when every result is right.
import { actor, getBrokerAsync, group, pipeline, Results, Worker } from "@dq/core";
import { RedisResultBackend } from "@dq/results-redis";

const url = process.env.DQ_BROKER_URL;
if (!url) throw new Error("set DQ_BROKER_URL, e.g. redis://127.0.0.1:6379/0?namespace=myapp");
const namespace = new URL(url).searchParams.get("namespace") ?? "dramatiq";

const broker = await getBrokerAsync();
const backend = new RedisResultBackend({
  url: url.replace(/\?.*$/, ""),
  namespace: `${namespace}-results`,
});
broker.addMiddleware(new Results({ backend, storeResults: true, resultTtl: 60_000 }));

const add = actor(function add(x: number, y: number): number {
  return x + y;
});
const double = actor(function double(x: number): number {
  return 2 * x;
});

const worker = new Worker(broker, { concurrency: 4 });
await worker.start();
let failed = false;
try {
  // `message.partial()`: a step whose last argument is the previous step's result (type-checked).
  const chain = pipeline([add.message(1, 2), double.message.partial(), double.message.partial()]);
  await chain.run();
  const result = await chain.getResult({ block: true, timeout: 20_000 });
  console.log(`pipeline add(1, 2) | double | double = ${result}`);
  if (result !== 12) failed = true;

  const sums = group([add.message(1, 1), add.message(2, 2), add.message(3, 3)]);
  await sums.run();
  await sums.wait({ timeout: 20_000 });
  const results = await sums.getResults();
  console.log(`group of add: ${JSON.stringify(results)}`);
  if (JSON.stringify(results) !== "[2,4,6]") failed = true;
} finally {
  await worker.stop();
  await broker.close();
  await backend.close();
}
console.log(failed ? "outside example: WRONG RESULTS" : "outside example: OK");
process.exit(failed ? 1 : 0);
