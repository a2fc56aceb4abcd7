// dq results: a pipeline and a group, their results stored in Redis by RedisResultBackend (in the
// same keys and format as Python Dramatiq's RedisBackend). Messages travel on the in-memory
// StubBroker here; with @dq/broker-redis they would travel on Redis too.
import {
  actor,
  defaultMiddleware,
  group,
  pipeline,
  ResultFailure,
  Results,
  setBroker,
  StubBroker,
  Worker,
} from "@dq/core";
import { RedisResultBackend } from "@dq/results-redis";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const backend = new RedisResultBackend({ url, namespace: "dq-example-results" });
const broker = new StubBroker({
  middleware: [
    ...defaultMiddleware(),
    new Results({ backend, storeResults: true, resultTtl: 60_000 }),
  ],
});
setBroker(broker);

const started = Date.now();
const stamp = () => `+${String(Date.now() - started).padStart(5)} ms`;

const fetchPrice = actor(
  async function fetch_price(symbol: string) {
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
    const price = 100 + symbol.length * 7;
    console.log(`${stamp()}  fetch_price(${symbol}) = ${price}`);
    return price;
  },
  { broker },
);

const applyDiscount = actor(
  function apply_discount(percent: number, price: number) {
    const discounted = Math.round(price * (100 - percent)) / 100;
    console.log(`${stamp()}  apply_discount(${percent}%, ${price}) = ${discounted}`);
    return discounted;
  },
  { broker },
);

const formatPrice = actor(
  function format_price(currency: string, amount: number) {
    const text = `${amount.toFixed(2)} ${currency}`;
    console.log(`${stamp()}  format_price(${currency}, ${amount}) = ${text}`);
    return text;
  },
  { broker },
);

const checkStock = actor(
  function check_stock(symbol: string) {
    if (symbol === "UNKNOWN") throw new RangeError(`no such product: ${symbol}`);
    return { symbol, inStock: symbol.length % 2 === 0 };
  },
  { broker, maxRetries: 0 },
);

const worker = new Worker(broker, { concurrency: 8 });
await worker.start();
console.log(`dq results example: results in Redis at ${url} (namespace dq-example-results)`);

try {
  // A pipeline: each step's result is appended to the next step's arguments. A step built with
  // message.partial(...) takes its leading arguments only; the previous result is its last one
  // (checked at compile time: price is Pipeline<string>, and a step whose last parameter did not
  // accept the previous step's result would not compile).
  const price = pipeline([
    fetchPrice.message("WIDGET"),
    applyDiscount.message.partial(15),
    formatPrice.message.partial("EUR"),
  ]);
  await price.run();
  console.log(
    `${stamp()}  pipeline of ${price.length} steps sent; waiting for its result in Redis`,
  );
  const result = await price.getResult({ block: true, timeout: 10_000 });
  console.log(`${stamp()}  pipeline result: ${result}`);
  console.log(`${stamp()}  every step: ${JSON.stringify(await price.getResults())}`);

  // A group: messages run in parallel; results come back in order.
  const symbols = ["AB", "CDE", "FGHI", "JKLMN", "OPQRST"];
  const stock = group(symbols.map((symbol) => checkStock.message(symbol)));
  await stock.run();
  await stock.wait({ timeout: 10_000 });
  console.log(`${stamp()}  group of ${stock.length}: ${await stock.completedCount} completed`);
  for (const result of await stock.getResults())
    console.log(`${stamp()}    ${JSON.stringify(result)}`);

  // A failure is stored too, and read back as ResultFailure.
  const missing = await checkStock.send("UNKNOWN");
  try {
    await missing.getResult({ backend, block: true, timeout: 10_000 });
  } catch (error) {
    if (!(error instanceof ResultFailure)) throw error;
    console.log(
      `${stamp()}  check_stock(UNKNOWN) failed: ${error.origExcType}: ${error.origExcMsg}`,
    );
  }
  console.log(
    `${stamp()}  the result key of that message in Redis: ${backend.buildMessageKey(missing)}`,
  );
} finally {
  await broker.join("default", { timeout: 10_000, failFast: false });
  await worker.join();
  await worker.stop();
  await broker.close();
  await backend.close();
}
console.log(`${stamp()}  done.`);
