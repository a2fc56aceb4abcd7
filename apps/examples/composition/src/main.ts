// dq composition: pipelines, groups and results, typed end to end, on the in-memory broker with
// the in-memory result backend (no server needed). Core's README quotes this file; CI runs it
// (`pnpm --filter @dq/example-composition test`) and it checks every result it prints.
import { strict as assert } from "node:assert";
import {
  actor,
  defaultMiddleware,
  group,
  pipeline,
  ResultFailure,
  Results,
  setBroker,
  StubBroker,
  StubResultBackend,
  Worker,
} from "@dq/core";

// Results are stored by the Results middleware; storeResults: true makes it the default for every actor.
const backend = new StubResultBackend();
const broker = new StubBroker({
  middleware: [...defaultMiddleware(), new Results({ backend, storeResults: true })],
});
setBroker(broker);

const fetchPrice = actor(async function fetch_price(symbol: string) {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return 100 + symbol.length * 7;
});
const applyDiscount = actor(function apply_discount(percent: number, price: number) {
  return Math.round(price * (100 - percent)) / 100;
});
const formatPrice = actor(function format_price(currency: string, amount: number) {
  return `${amount.toFixed(2)} ${currency}`;
});
const checkStock = actor(
  function check_stock(symbol: string) {
    if (symbol === "UNKNOWN") throw new RangeError(`no such product: ${symbol}`);
    return { symbol, inStock: symbol.length % 2 === 0 };
  },
  { maxRetries: 0 },
);

const worker = new Worker(broker, { concurrency: 8 });
await worker.start();
try {
  // A pipeline: each step's result is appended to the next step's arguments. message.partial(...)
  // gives a step its leading arguments only; the previous result becomes its last one. The
  // compiler checks each step against the previous one, and getResult() is the last step's type.
  const price = pipeline([
    fetchPrice.message("WIDGET"), // 142
    applyDiscount.message.partial(15), // apply_discount(15, 142) = 120.7
    formatPrice.message.partial("EUR"), // format_price("EUR", 120.7)
  ]);
  await price.run();
  const text: string = await price.getResult({ block: true, timeout: 10_000 });
  console.log(`pipeline result: ${text}`);
  assert.equal(text, "120.70 EUR");
  console.log(`every step: ${JSON.stringify(await price.getResults())}`);
  assert.deepEqual(await price.getResults(), [142, 120.7, "120.70 EUR"]);

  // The same pipeline with pipe(): message.pipe(next) is Python's `message | next`.
  const piped = fetchPrice
    .message("GADGET")
    .pipe(applyDiscount.message.partial(50))
    .pipe(formatPrice.message.partial("USD"));
  await piped.run();
  assert.equal(await piped.getResult({ block: true, timeout: 10_000 }), "71.00 USD");

  // A group: children run in parallel; getResults() gives their results in order, typed as a
  // tuple (here [number, { symbol: string; inStock: boolean }, string]).
  const jobs = group([fetchPrice.message("AB"), checkStock.message("CDE"), price]);
  await jobs.run();
  await jobs.wait({ timeout: 10_000 });
  const [abPrice, cdeStock, priceText] = await jobs.getResults();
  console.log(`group results: ${abPrice}, ${JSON.stringify(cdeStock)}, ${priceText}`);
  assert.deepEqual([abPrice, cdeStock.inStock, priceText], [114, false, "120.70 EUR"]);

  // A group of many messages: an array of results.
  const symbols = ["AB", "CDE", "FGHI"];
  const stock = group(symbols.map((symbol) => checkStock.message(symbol)));
  await stock.run();
  const inStock = (await stock.getResults({ block: true, timeout: 10_000 }))
    .filter((result) => result.inStock)
    .map((result) => result.symbol);
  console.log(
    `in stock: ${inStock.join(", ")} (${await stock.completedCount} of ${stock.length} completed)`,
  );
  assert.deepEqual(inStock, ["AB", "FGHI"]);

  // One message's result; a failure is stored too and read back as ResultFailure.
  const sent = await fetchPrice.send("PHONE");
  const value: number = await sent.getResult({ block: true, timeout: 10_000 });
  assert.equal(value, 135);
  console.log(
    "check_stock(UNKNOWN) fails on purpose: the worker logs the error and the backend stores it",
  );
  const failed = await checkStock.send("UNKNOWN");
  const error = await failed
    .getResult({ block: true, timeout: 10_000 })
    .catch((caught: unknown) => caught);
  assert.ok(error instanceof ResultFailure);
  console.log(`check_stock(UNKNOWN) failed: ${error.origExcType}: ${error.origExcMsg}`);
} finally {
  await worker.stop();
  await broker.close();
}
console.log("composition example: every result as expected.");
