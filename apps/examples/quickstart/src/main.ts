// The dq quickstart: declare typed actors, start a worker, send jobs, watch them run.
// In-memory by default; `DQ_BROKER_URL=redis://127.0.0.1:6379` runs the same code on Redis.
import { actor, getBrokerAsync, Retries, setBroker, StubBroker, Worker } from "@dq/core";

// DQ_BROKER_URL's broker (getBrokerAsync imports its adapter), else an in-memory one: this demo
// runs its worker in this very process, so an in-memory broker is enough here.
if (!process.env.DQ_BROKER_URL) setBroker(new StubBroker());
const broker = await getBrokerAsync();
// Retry quickly in the demo (Dramatiq's default backoff starts at 15 s).
broker.middleware.splice(
  broker.middleware.findIndex((m) => m instanceof Retries),
  1,
);
broker.addMiddleware(new Retries({ minBackoff: 100, maxBackoff: 500 }));

const started = Date.now();
const stamp = () => `+${String(Date.now() - started).padStart(5)} ms`;

const add = actor(
  function add(x: number, y: number) {
    console.log(`${stamp()}  add(${x}, ${y}) = ${x + y}`);
    return x + y;
  },
  { broker, queueName: "quickstart" },
);

const sendEmail = actor(
  async function send_email(to: string, subject: string) {
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
    console.log(`${stamp()}  emailed ${to}: ${subject}`);
  },
  { broker, queueName: "quickstart_emails", priority: 10 },
);

let flakyCalls = 0;
const flaky = actor(
  function flaky_fetch(url: string) {
    flakyCalls++;
    if (flakyCalls < 3) {
      console.log(
        `${stamp()}  flaky_fetch(${url}) failed on attempt ${flakyCalls}, will be retried`,
      );
      throw new Error(`upstream timeout (attempt ${flakyCalls})`);
    }
    console.log(`${stamp()}  flaky_fetch(${url}) succeeded on attempt ${flakyCalls}`);
  },
  { broker, queueName: "quickstart", maxRetries: 5 },
);

const worker = new Worker(broker, { concurrency: 8, queues: ["quickstart", "quickstart_emails"] });
await worker.start();
console.log(`dq quickstart on ${broker.constructor.name}: worker started (concurrency 8)`);

for (let i = 1; i <= 5; i++) await add.send(i, i * 10);
for (const user of ["ada", "grace", "linus"])
  await sendEmail.send(`${user}@example.com`, "Welcome to dq");
await flaky.send("https://example.com/feed");
await add.sendWithOptions({ args: [40, 2], delay: 500 });
console.log(`${stamp()}  sent 10 jobs (one delayed by 500 ms, one that fails twice)`);

for (const queue of ["quickstart", "quickstart_emails"])
  await broker.join(queue, { timeout: 30_000 });
await worker.join();
await worker.stop();
await broker.close();
console.log(`${stamp()}  all jobs done; worker stopped.`);
