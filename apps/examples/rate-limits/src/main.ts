// dq rate limits: an actor that calls a "partner API" at most 2 at a time, and a group of jobs whose
// completion callback runs once they all succeeded. In memory by default; with REDIS_URL set the
// limiter and the group's barrier live in Redis, where Python Dramatiq processes could share them.
import { actor, group, Retries, StubBroker, Worker, defaultMiddleware } from "@dq/core";
import {
  ConcurrentRateLimiter,
  GroupCallbacks,
  StubRateLimiterBackend,
  type RateLimiterBackend,
} from "@dq/rate-limits";

async function loadBackend(): Promise<RateLimiterBackend> {
  const url = process.env.REDIS_URL;
  if (!url) return new StubRateLimiterBackend();
  const { RedisRateLimiterBackend } = await import("@dq/rate-limits/redis");
  return new RedisRateLimiterBackend({ url });
}

const backend = await loadBackend();
const broker = new StubBroker({
  // Retry a refused message quickly in the demo (Dramatiq's default backoff starts at 15 s).
  middleware: [
    ...defaultMiddleware().filter((m) => !(m instanceof Retries)),
    new Retries({ minBackoff: 50, maxBackoff: 200 }),
    new GroupCallbacks(backend),
  ],
});

const started = Date.now();
const stamp = () => `+${String(Date.now() - started).padStart(5)} ms`;
const partnerApi = new ConcurrentRateLimiter(backend, `example-partner-api-${process.pid}`, {
  limit: 2,
  ttl: 60_000,
});
let inside = 0;

const syncAccount = actor(
  async function sync_account(id: number) {
    // RateLimitExceeded when both slots are taken: the Retries middleware tries the message again.
    await partnerApi.acquire(async () => {
      inside++;
      console.log(
        `${stamp()}  sync_account(${id}) calling the partner API (${inside} of at most 2 inside)`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      inside--;
    });
  },
  { broker, queueName: "rate_limits_example", maxRetries: 50 },
);

let reported: () => void = () => undefined;
const report = new Promise<void>((resolve) => (reported = resolve));

const syncReport = actor(
  function sync_report(count: number) {
    console.log(`${stamp()}  completion callback: all ${count} accounts synced`);
    reported();
  },
  { broker, queueName: "rate_limits_example" },
);

const worker = new Worker(broker, { concurrency: 6 });
await worker.start();
console.log(
  `dq rate limits on ${backend.constructor.name}: worker started (concurrency 6, limit 2)`,
);

const ids = [1, 2, 3, 4, 5, 6];
await group(
  ids.map((id) => syncAccount.message(id)),
  { broker },
)
  .addCompletionCallback(syncReport.message(ids.length))
  .run();
console.log(
  `${stamp()}  sent a group of ${ids.length} sync_account jobs with a completion callback`,
);

// The end is the completion callback itself (waiting for the queue to drain could return while a
// refused message waits for its retry). Bounded: a demo must finish and exit.
let timer: NodeJS.Timeout | undefined;
const deadline = new Promise<never>((_, reject) => {
  timer = setTimeout(
    () => reject(new Error("the completion callback did not run within 60 s")),
    60_000,
  );
});
try {
  await Promise.race([report, deadline]);
} finally {
  clearTimeout(timer);
  await worker.stop();
  await broker.close();
  await backend.close();
}
console.log(`${stamp()}  done`);
