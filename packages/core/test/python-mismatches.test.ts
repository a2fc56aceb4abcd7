import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  GenericActor,
  Message,
  ResultFailure,
  Results,
  StubResultBackend,
  type GenericActorMeta,
} from "../src/index.js";
import { harness } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Keeps the raw bytes every store writes. */
class RecordingBackend extends StubResultBackend {
  readonly writes: string[] = [];
  protected override async storeValue(key: string, data: Buffer, ttl: number): Promise<void> {
    this.writes.push(data.toString("latin1"));
    await super.storeValue(key, data, ttl);
  }
}

describe("an aged-out message with results", () => {
  it("stores the skip reason as Python does: SkipMessage, 'Message age limit exceeded'", async () => {
    const backend = new RecordingBackend();
    const h = await harness({ start: false });
    cleanups.push(h.stop);
    h.broker.addMiddleware(new Results({ backend }));
    await h.worker.start();
    const ran: number[] = [];
    const old = actor((x: number) => void ran.push(x), {
      broker: h.broker,
      actorName: "old",
      maxAge: 1000,
      storeResults: true,
    });
    const message = old.message(1);
    // Sent two seconds ago: past its one-second age limit.
    await h.broker.enqueue(new Message({ ...message, messageTimestamp: Date.now() - 2000 }));
    await h.broker.join("default", { failFast: false });
    expect(ran).toEqual([]);
    // json.dumps({"__t": "dramatiq.results.Result", "exn": {"type": "SkipMessage", "msg": "Message age limit exceeded"}},
    //   separators=(",", ":")), as Dramatiq's Results.after_nack stores the exception its worker stuffed.
    expect(backend.writes).toEqual([
      '{"__t":"dramatiq.results.Result","exn":{"type":"SkipMessage","msg":"Message age limit exceeded"}}',
    ]);
    const error = await backend.getResult(message).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResultFailure);
    expect((error as ResultFailure).origExcType).toBe("SkipMessage");
    expect((error as ResultFailure).origExcMsg).toBe("Message age limit exceeded");
  });
});

describe("GenericActor subclasses", () => {
  it("expose actorName, queueName, priority and options before first use, as Dramatiq's class attributes", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    abstract class Base extends GenericActor {
      static override meta: GenericActorMeta = {
        abstract: true,
        queueName: "emails",
        broker: h.broker,
      };
    }
    class Email extends Base {
      static override meta: GenericActorMeta = { priority: 5, maxRetries: 3 };
      perform(to: string) {
        return to;
      }
    }
    class Named extends GenericActor {
      static override meta: GenericActorMeta = { actorName: "send_named", broker: h.broker };
      perform() {}
    }
    expect(h.broker.actors.has("Email")).toBe(false);
    expect(Email.actorName).toBe("Email");
    expect(Email.queueName).toBe("emails");
    expect(Email.priority).toBe(5);
    expect(Email.options).toEqual({ maxRetries: 3 });
    expect(Named.actorName).toBe("send_named");
    expect(Named.queueName).toBe("default");
    // Reading declared the actor once; sending uses the same one.
    expect(h.broker.getActor("Email")).toBe(Email.actor());
    // A class works where an actor is expected, as an actor does.
    const notify = actor(function notify() {}, { broker: h.broker, onSuccess: Email });
    expect(notify.options.onSuccess).toBe("Email");
    expect(() => Base.queueName).toThrow(/abstract/);
    expect(() => GenericActor.queueName).toThrow(/GenericActor itself is not an actor/);
  });
});
