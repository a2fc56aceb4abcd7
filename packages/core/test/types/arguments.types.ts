// Type tests: actor arguments are checked in calls, messages and sends.
/* eslint-disable @typescript-eslint/no-unused-vars -- values declared to have their types checked */
import { actor, GenericActor, type Message } from "../../src/index.js";
import { assertType, type Equal, type ResultOf } from "./expect.js";

const add = actor(function add(x: number, y: number) {
  return x + y;
});
const fetchText = actor(async function fetch_text(url: string, retries?: number) {
  await Promise.resolve(retries);
  return url.length;
});

assertType<Equal<ReturnType<typeof add.message>, Message<number>>>(true);
// An async actor's result is awaited.
assertType<Equal<ResultOf<ReturnType<typeof fetchText.message>>, number>>(true);

void add.send(1, 2);
// @ts-expect-error -- wrong argument type
void add.send("1", 2);
// @ts-expect-error -- too few arguments
void add.send(1);
// @ts-expect-error -- too many arguments
void add.send(1, 2, 3);
// @ts-expect-error -- wrong argument type in a message
add.message(1, "2");
// @ts-expect-error -- wrong argument type in a direct call
void add(1, "2");
void fetchText.send("https://example.com");
void fetchText.send("https://example.com", 3);
// @ts-expect-error -- an optional parameter keeps its type
void fetchText.send("https://example.com", "3");
// @ts-expect-error -- args in sendWithOptions are checked too
void add.sendWithOptions({ args: [1, "2"] });

class Email extends GenericActor {
  static override meta = { queueName: "emails", maxRetries: 3 };
  perform(to: string): string {
    return to;
  }
}
void Email.send("a@b.co");
// @ts-expect-error -- a class-based actor's arguments are perform's
void Email.send(42);
const emailMessage = Email.message("a@b.co");
assertType<Equal<ResultOf<typeof emailMessage>, string>>(true);
