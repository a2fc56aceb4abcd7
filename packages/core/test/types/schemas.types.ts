// Type tests: argument schemas from zod 3 and zod 4 (any Standard Schema) type the actor.
import { z as z3 } from "zod3";
import { z as z4 } from "zod4";
import { actor, type ArgsSchema } from "../../src/index.js";
import { assertType, type Equal, type ResultOf } from "./expect.js";

// zod 3: send takes the schema's input; unannotated parameters are typed from its output.
const email3 = actor((to, times) => `${to.toUpperCase()} x${times.toFixed(0)}`, {
  actorName: "email3",
  schema: z3.tuple([z3.string().email(), z3.number()]),
});
void email3.send("a@b.co", 2);
// @ts-expect-error -- zod 3 schema: the first argument is a string
void email3.send(1, 2);
// @ts-expect-error -- zod 3 schema: two arguments
void email3.send("a@b.co");
assertType<Equal<ResultOf<ReturnType<typeof email3.message>>, string>>(true);

// zod 4, the same.
const email4 = actor((to, times) => `${to.toUpperCase()} x${times.toFixed(0)}`, {
  actorName: "email4",
  schema: z4.tuple([z4.email(), z4.number()]),
});
void email4.send("a@b.co", 2);
// @ts-expect-error -- zod 4 schema: the first argument is a string
void email4.send(1, 2);
assertType<Equal<Parameters<typeof email4.send>, [string, number]>>(true);

// A transforming schema: send takes the input type, the function receives the output type.
const parsed3 = actor((when: Date) => when.getTime(), {
  actorName: "parsed3",
  schema: z3.tuple([z3.string().transform((text) => new Date(text))]),
});
void parsed3.send("2026-01-01");
// @ts-expect-error -- send takes the schema's input (a string), not its output
void parsed3.send(new Date());
const parsed4 = actor((when: Date) => when.getTime(), {
  actorName: "parsed4",
  schema: z4.tuple([z4.string().transform((text) => new Date(text))]),
});
void parsed4.send("2026-01-01");
// @ts-expect-error -- send takes the schema's input (a string), not its output
void parsed4.send(new Date());

// The function must accept what the schema produces.
// @ts-expect-error -- the zod 3 schema produces a string, the function takes a number
actor((x: number) => x, { actorName: "mismatch3", schema: z3.tuple([z3.string()]) });
actor(
  // @ts-expect-error -- the zod 4 schema produces a string, the function takes a number
  function mismatch4(x: number) {
    return x;
  },
  { schema: z4.tuple([z4.string()]) },
);
// Options stay exact next to a schema.
// @ts-expect-error -- misspelt option next to a schema
actor((to: string) => to, { actorName: "typo", schema: z4.tuple([z4.string()]), maxRetires: 2 });

// A schema without Standard Schema support (zod before 3.24) is refused, naming the interface.
declare const oldZod: { safeParse(value: unknown): { success: boolean }; _output: [string] };
// @ts-expect-error -- `~standard` is missing: zod 3.24 or later, or zod 4, is needed
actor((to: string) => to, { actorName: "old", schema: oldZod });
const anySchema: ArgsSchema = z4.tuple([z4.string()]);
void anySchema;
