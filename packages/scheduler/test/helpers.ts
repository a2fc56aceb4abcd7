import { actor, Middleware, StubBroker, type Broker, type Message } from "@dq/core";
import { addressFromUrl, FakeClock, uniqueQueueName } from "@dq/core/testing";
import { Scheduler, type SchedulerOptions } from "../src/index.js";
import { RedisSchedulerStore } from "../src/redis-store.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const REDIS = addressFromUrl(REDIS_URL, 6379);
export const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const AMQP = addressFromUrl(AMQP_URL, 5672);

/** Records every message enqueued on a broker, with the delay it was enqueued with. */
export class Recorder extends Middleware {
  readonly sent: { message: Message; delay: number | undefined }[] = [];
  override beforeEnqueue(_broker: Broker, message: Message, delay?: number): void {
    this.sent.push({ message, delay });
  }
  /** The slots fired, as ISO strings, by schedule name. */
  slots(name: string): string[] {
    return this.sent
      .filter(({ message }) => message.options.schedule === name)
      .map(({ message }) => String(message.options.scheduled_at));
  }
}

/** A StubBroker with a recorder and a `tick` actor, a fake clock and a Redis store of its own prefix. */
export function setup(start: string | number) {
  const broker = new StubBroker();
  const recorder = new Recorder();
  broker.addMiddleware(recorder);
  actor(() => undefined, { actorName: "tick", broker });
  const clock = new FakeClock(typeof start === "number" ? start : Date.parse(start));
  const prefix = uniqueQueueName("dq-scheduler-test");
  const stores: RedisSchedulerStore[] = [];
  const schedulers: Scheduler[] = [];
  const make = (options: Partial<SchedulerOptions> = {}) => {
    const store = new RedisSchedulerStore({ url: REDIS_URL, prefix });
    stores.push(store);
    const scheduler = new Scheduler({
      store,
      broker,
      clock,
      useGlobalSchedules: false,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      ...options,
    });
    schedulers.push(scheduler);
    return scheduler;
  };
  /** Moves the fake clock forward in steps, letting each round of the schedulers finish. */
  const advance = async (ms: number, step = 250) => {
    const target = clock.now() + ms;
    while (clock.now() < target) {
      await clock.advance(Math.min(step, target - clock.now()));
      for (const scheduler of schedulers) await scheduler.settled();
    }
  };
  const cleanup = async () => {
    for (const scheduler of schedulers) await scheduler.stop();
    await stores[0]?.clear();
    for (const store of stores) await store.close();
    await broker.close();
  };
  return { broker, recorder, clock, prefix, make, advance, cleanup };
}
