// Type tests: actor and message options are exact; args are required when the actor needs them.
import { actor, GenericActor, type GenericActorMeta } from "../../src/index.js";

// How a middleware package adds its options (see MiddlewareMessageOptions). Here through the
// source module; an application or adapter writes `declare module "@dq/core"`.
declare module "../../src/index.js" {
  interface MiddlewareMessageOptions {
    /** A message option of some middleware, for this test. */
    typesTestQuota?: number;
  }
  interface MiddlewareActorOptions {
    /** An actor-only option (a function: it cannot travel in a message), for this test. */
    typesTestHook?: (key: string) => void;
  }
}

const add = actor(
  function add(x: number, y: number) {
    return x + y;
  },
  {
    queueName: "math",
    maxRetries: 3,
    timeLimit: 30_000,
    onSuccess: "log_result",
    retryWhen: (retries) => retries < 3,
  },
);
const ping = actor(function ping() {});
const greet = actor(function greet(name?: string) {
  return `hello ${name ?? "you"}`;
});

actor(
  function bad1(x: number) {
    return x;
  },
  // @ts-expect-error -- misspelt actor option (maxRetires)
  { maxRetires: 3 },
);
actor(
  function bad2(x: number) {
    return x;
  },
  // @ts-expect-error -- an option of the wrong type (timeLimit is in ms)
  { timeLimit: "30s" },
);
// @ts-expect-error -- misspelt option on an arrow function
actor((x: number) => x, { actorName: "bad3", quueName: "q" });
// @ts-expect-error -- an actor passed where an actor name is expected must be an actor or a name
actor(function bad4() {}, { onFailure: 42 });

void add.sendWithOptions({ args: [1, 2], delay: 1000, maxRetries: 0, brokerPriority: 5 });
add.messageWithOptions({ args: [1, 2], pipeIgnore: true, kwargs: { z: 1 }, onSuccess: ping });
// @ts-expect-error -- misspelt message option (dealy)
void add.sendWithOptions({ args: [1, 2], dealy: 1000 });
// @ts-expect-error -- misspelt message option in messageWithOptions
add.messageWithOptions({ args: [1, 2], maxRetires: 1 });
// @ts-expect-error -- timeLimit is a number of ms
void add.sendWithOptions({ args: [1, 2], timeLimit: "30s" });
// @ts-expect-error -- args are required: the actor has required parameters
void add.sendWithOptions({ delay: 1000 });
// @ts-expect-error -- args are required in messageWithOptions too
add.messageWithOptions({ pipeIgnore: true });
// @ts-expect-error -- retryWhen is a function: an actor option only, it cannot travel in a message
void add.sendWithOptions({ args: [1, 2], retryWhen: () => true });
// Without required parameters, args may be left out.
void ping.sendWithOptions({ delay: 1000 });
void greet.sendWithOptions({ delay: 1000 });
void greet.sendWithOptions({ args: ["ada"], delay: 1000 });

// Options added by declaration merging are accepted, with their types.
actor(
  function quota(x: number) {
    return x;
  },
  { typesTestQuota: 5, typesTestHook: (key) => void key.length },
);
void add.sendWithOptions({ args: [1, 2], typesTestQuota: 1 });
// @ts-expect-error -- a merged option keeps its type
void add.sendWithOptions({ args: [1, 2], typesTestQuota: "many" });
// @ts-expect-error -- an actor-only merged option is not a message option
void add.sendWithOptions({ args: [1, 2], typesTestHook: () => undefined });

// Class-based actors: `satisfies GenericActorMeta` makes meta exact as well.
export class Report extends GenericActor {
  static override meta = { queueName: "reports", maxRetries: 1 } satisfies GenericActorMeta;
  perform(id: number): number {
    return id;
  }
}
export class BadReport extends GenericActor {
  // @ts-expect-error -- misspelt meta option
  static override meta = { queueName: "reports", maxRetires: 1 } satisfies GenericActorMeta;
  perform(): void {}
}

// isolate: only "thread"; module: a URL or a string.
actor(function isolatedOk() {}, { isolate: "thread", module: "file:///app/actors.js" });
actor(function isolatedUrl() {}, { isolate: "thread", module: new URL("file:///app/actors.js") });
// @ts-expect-error -- isolate: "process" is not implemented
actor(function isolatedProcess() {}, { isolate: "process" });
// @ts-expect-error -- not an isolation mode
actor(function isolatedX() {}, { isolate: "x" });
// @ts-expect-error -- module is a URL or a path, not a number
actor(function isolatedModule() {}, { isolate: "thread", module: 3 });
