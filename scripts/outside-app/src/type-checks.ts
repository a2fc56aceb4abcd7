// Compiled with main.ts, never run: the packages' types arrive through the tarballs (with `any`
// types the expected errors below would not happen, and tsc would fail on the unused directives).
import { actor, getBrokerAsync, type Broker } from "@dq/core";

export const add = actor(function add(x: number, y: number): number {
  return x + y;
});

export async function checks(): Promise<Broker> {
  // @ts-expect-error: add takes numbers
  await add.send("1", 2);
  // @ts-expect-error: add takes two arguments
  await add.send(1);
  // @ts-expect-error: a misspelt option (maxRetries) does not compile
  await add.sendWithOptions({ args: [1, 2], maxRetires: 3 });
  return getBrokerAsync();
}
