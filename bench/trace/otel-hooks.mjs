// The per-message cost of the OpenTelemetry middleware with no SDK registered, on the paths the
// broker and worker call for each message: the enqueue hooks, the process wrapper
// (`broker.processWithin`, core's `aroundProcessMessage`) and the after-process hooks. Two brokers,
// one with the default middleware and one with it plus `OpenTelemetry`, measured alternately in
// rounds in one process; ns per message and heap bytes per message (new space big enough that
// no scavenge runs during a round, so the heap growth is what was allocated).
//
//   node --max-semi-space-size=512 --expose-gc bench/trace/otel-hooks.mjs [messages per round] [rounds]
import { defaultMiddleware, Message, MessageProxy, StubBroker } from "@dq/core";
import { OpenTelemetry } from "@dq/opentelemetry";

const perRound = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 7);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const plain = new StubBroker({ middleware: defaultMiddleware(), logger: quiet });
const withOtel = new StubBroker({
  middleware: [...defaultMiddleware(), new OpenTelemetry()],
  logger: quiet,
});
for (const broker of [plain, withOtel]) broker.declareQueue("bench");

const messages = Array.from(
  { length: 1000 },
  (_, i) =>
    new Message({ queueName: "bench", actorName: "noop", args: [i], kwargs: {}, options: {} }),
);
const proxies = messages.map((message) => new MessageProxy(message));
const done = Promise.resolve();
const run = () => done;

async function round(broker) {
  globalThis.gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = process.hrtime.bigint();
  for (let i = 0; i < perRound; i++) {
    const message = messages[i % 1000];
    const proxy = proxies[i % 1000];
    broker.emitBefore("enqueue", message, undefined);
    broker.emitAfter("enqueue", message, undefined);
    await broker.processWithin(proxy, run);
    broker.emitAfter("processMessage", proxy, { result: undefined });
  }
  const ns = Number(process.hrtime.bigint() - start) / perRound;
  const bytes = (process.memoryUsage().heapUsed - heapBefore) / perRound;
  return { ns, bytes };
}

const results = { plain: [], otel: [] };
await round(plain); // warm-up
await round(withOtel);
for (let r = 0; r < rounds; r++) {
  results.plain.push(await round(plain));
  results.otel.push(await round(withOtel));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const [name, list] of Object.entries(results))
  console.log(
    `${name.padEnd(6)} ns/message median ${median(list.map((x) => x.ns)).toFixed(0)} ` +
      `(runs ${list.map((x) => x.ns.toFixed(0)).join(" ")}); heap bytes/message median ` +
      `${median(list.map((x) => x.bytes)).toFixed(1)}`,
  );
