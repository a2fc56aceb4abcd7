// Type tests: pipeline steps built with message.partial are checked against the previous step;
// pipeline and group results are typed.
/* eslint-disable @typescript-eslint/no-unused-vars -- values declared to have their types checked */
import {
  actor,
  GenericActor,
  group,
  pipeline,
  type Message,
  type Pipeline,
} from "../../src/index.js";
import { assertType, type Equal, type ResultOf } from "./expect.js";

const fetchPrice = actor(async function fetch_price(symbol: string) {
  await Promise.resolve();
  return symbol.length * 10;
});
const applyDiscount = actor(function apply_discount(percent: number, price: number) {
  return price * (1 - percent / 100);
});
const formatPrice = actor(function format_price(currency: string, amount: number) {
  return `${amount} ${currency}`;
});
const greet = actor(function greet(greeting: string, name: string) {
  return `${greeting}, ${name}`;
});
const shout = actor(function shout(text: string) {
  return { text: text.toUpperCase(), length: text.length };
});
const note = actor(function note(label: string, value?: number) {
  return `${label}=${value ?? "none"}`;
});

// message.partial takes the leading arguments only; its type remembers the missing last one.
const discount = applyDiscount.message.partial(15);
assertType<Equal<typeof discount, Message<number, [price: number]>>>(true);
// @ts-expect-error -- partial takes the leading arguments only, not all of them
applyDiscount.message.partial(15, 100);
// @ts-expect-error -- leading arguments keep their types
applyDiscount.message.partial("15");
// The complete form still needs every argument (TS2554 without partial).
// @ts-expect-error -- greet.message("Hello") lacks the name
greet.message("Hello");

// A typed pipeline: each partial step takes the previous result; getResult is the last step's.
const price = pipeline([
  fetchPrice.message("WIDGET"),
  applyDiscount.message.partial(15),
  formatPrice.message.partial("EUR"),
]);
assertType<Equal<ResultOf<typeof price>, string>>(true);
const welcome = pipeline([
  formatPrice.message("EUR", 10),
  greet.message.partial("Hello"),
  shout.message.partial(),
]);
assertType<Equal<ResultOf<typeof welcome>, { text: string; length: number }>>(true);
// An optional last parameter accepts the previous result too.
const noted = pipeline([fetchPrice.message("X"), note.message.partial("price")]);
assertType<Equal<ResultOf<typeof noted>, string>>(true);

pipeline([
  fetchPrice.message("WIDGET"),
  // @ts-expect-error -- greet's missing name is a string, but fetch_price returns a number
  greet.message.partial("Hello"),
]);
pipeline([
  fetchPrice.message("A"),
  applyDiscount.message.partial(15),
  // @ts-expect-error -- the third step is checked against the second: shout takes a string
  shout.message.partial(),
]);
// A complete step is allowed anywhere (Dramatiq appends the result all the same; pipeIgnore stops that).
const complete = pipeline([fetchPrice.message("A"), fetchPrice.message("B")]);
assertType<Equal<ResultOf<typeof complete>, number>>(true);

// A pipeline whose first step is partial can only run inside another pipeline.
const tail = pipeline([applyDiscount.message.partial(10), formatPrice.message.partial("USD")]);
// @ts-expect-error -- nothing supplies the first step's price
void tail.run();
const full = pipeline([fetchPrice.message("B"), tail]);
assertType<Equal<ResultOf<typeof full>, string>>(true);
void full.run();
pipeline([
  shout.message("x"),
  // @ts-expect-error -- the nested pipeline's first step needs a number, shout returns an object
  tail,
]);

// message.pipe and Pipeline.pipe are checked the same way.
const piped = fetchPrice
  .message("C")
  .pipe(applyDiscount.message.partial(5))
  .pipe(formatPrice.message.partial("GBP"));
assertType<Equal<typeof piped, Pipeline<string>>>(true);
// @ts-expect-error -- greet's name is a string, fetch_price returns a number
fetchPrice.message("C").pipe(greet.message.partial("Hi"));

// Groups: getResults is the tuple of the children's results (a pipeline gives its last result).
const mixed = group([
  fetchPrice.message("A"),
  shout.message("b"),
  price,
  group([greet.message("Hi", "Ada"), fetchPrice.message("D")]),
]);
assertType<
  Equal<
    ResultOf<typeof mixed>,
    [number, { text: string; length: number }, string, [string, number]]
  >
>(true);
const many = group(["A", "B", "C"].map((symbol) => fetchPrice.message(symbol)));
assertType<Equal<ResultOf<typeof many>, number[]>>(true);
// @ts-expect-error -- a partial step cannot be a group child: nothing supplies its argument
group([fetchPrice.message("A"), applyDiscount.message.partial(10)]);
// @ts-expect-error -- nor can a pipeline whose first step is partial
group([tail]);

// A class-based actor's steps: through its Actor.
class Tax extends GenericActor {
  perform(rate: number, amount: number): number {
    return amount * (1 + rate);
  }
}
const taxed = pipeline([
  fetchPrice.message("T"),
  Tax.actor().message.partial(0.2),
  formatPrice.message.partial("EUR"),
]);
assertType<Equal<ResultOf<typeof taxed>, string>>(true);
