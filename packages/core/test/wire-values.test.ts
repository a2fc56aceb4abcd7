import { afterEach, describe, expect, it } from "@jest/globals";
import {
  actor,
  DecodeError,
  EncodeError,
  JSONEncoder,
  Message,
  Middleware,
  pythonJson,
  type Broker,
} from "../src/index.js";
import { harness } from "./helpers.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * What Python 3.11 writes for this message (Dramatiq's JSONEncoder is
 * `json.dumps(data, separators=(",", ":"))`), from:
 *   json.dumps({"queue_name": "default", "actor_name": "wire", "args": [float("nan"), float("inf"),
 *     float("-inf"), -0.0, 2**63-1, -(2**63), 1e-07, 1.5e-05, 0.0001, 0.1, 2**53+1],
 *     "kwargs": {"x": {"y": float("nan")}}, "options": {"time_limit": float("inf")},
 *     "message_id": "8d5bd1c4-3a4b-4a16-8e1f-0a7f8e6c1d2e", "message_timestamp": 1795239351401},
 *     separators=(",", ":"))
 */
const PYTHON_BYTES =
  '{"queue_name":"default","actor_name":"wire","args":[NaN,Infinity,-Infinity,-0.0,9223372036854775807,-9223372036854775808,1e-07,1.5e-05,0.0001,0.1,9007199254740993],' +
  '"kwargs":{"x":{"y":NaN}},"options":{"time_limit":Infinity},"message_id":"8d5bd1c4-3a4b-4a16-8e1f-0a7f8e6c1d2e","message_timestamp":1795239351401}';

/** `json.dumps(value)` in Python 3.11 for each value (the JavaScript value on the left). */
const PYTHON_VALUES: [unknown, string][] = [
  [NaN, "NaN"],
  [Infinity, "Infinity"],
  [-Infinity, "-Infinity"],
  [-0, "-0.0"],
  [1e-7, "1e-07"],
  [1.5e-5, "1.5e-05"],
  [-2.5e-9, "-2.5e-09"],
  [1.5e-10, "1.5e-10"],
  [5e-324, "5e-324"],
  [0.0001, "0.0001"],
  [0.1, "0.1"],
  [123.456, "123.456"],
  [1e21, "1e+21"],
  [1.7976931348623157e308, "1.7976931348623157e+308"],
  [2n ** 63n - 1n, "9223372036854775807"],
  [-(2n ** 63n), "-9223372036854775808"],
  [2n ** 100n, "1267650600228229401496703205376"],
  [0, "0"],
  [42, "42"],
];

describe("wire values as Python's json module writes and reads them", () => {
  it.each(PYTHON_VALUES)("writes %p as Python writes it (%s) and reads it back", (value, text) => {
    expect(pythonJson([value])).toBe(`[${text}]`);
    const back = new JSONEncoder().decode(Buffer.from(`[${text}]`)) as unknown[];
    expect(Object.is(back[0], value)).toBe(true);
  });

  it("decodes Python's bytes to NaN, ±Infinity, -0, exact BigInts and small floats, and writes the same bytes back", () => {
    const message = Message.decode(Buffer.from(PYTHON_BYTES));
    expect(message.args).toEqual([
      NaN,
      Infinity,
      -Infinity,
      -0,
      2n ** 63n - 1n,
      -(2n ** 63n),
      1e-7,
      1.5e-5,
      0.0001,
      0.1,
      2n ** 53n + 1n,
    ]);
    expect(Object.is(message.args[3], -0)).toBe(true);
    expect(message.kwargs).toEqual({ x: { y: NaN } });
    expect(message.options.timeLimit).toBe(Infinity);
    expect(message.encode().toString("latin1")).toBe(PYTHON_BYTES);
  });

  it("writes the same bytes as Python from JavaScript values", () => {
    const message = new Message({
      queueName: "default",
      actorName: "wire",
      args: [
        NaN,
        Infinity,
        -Infinity,
        -0,
        2n ** 63n - 1n,
        -(2n ** 63n),
        1e-7,
        1.5e-5,
        0.0001,
        0.1,
        2n ** 53n + 1n,
      ],
      kwargs: { x: { y: NaN } },
      options: { timeLimit: Infinity },
      messageId: "8d5bd1c4-3a4b-4a16-8e1f-0a7f8e6c1d2e",
      messageTimestamp: 1795239351401,
    });
    expect(message.encode().toString("latin1")).toBe(PYTHON_BYTES);
    expect(new JSONEncoder().encode(message.asDict()).toString("latin1")).toBe(PYTHON_BYTES);
  });

  it("keeps safe integers as numbers and reads long digit runs inside strings and fractions as they are", () => {
    const decoded = new JSONEncoder().decode(
      '[9007199254740991,-9007199254740991,12345678901234567890.5,1.12345678901234567890,"12345678901234567890",1e400]',
    );
    expect(decoded).toEqual([
      9007199254740991,
      -9007199254740991,
      Number("12345678901234567890.5"),
      1.1234567890123457,
      "12345678901234567890",
      Infinity,
    ]);
  });

  it("keeps strings that look like tokens as strings", () => {
    expect(new JSONEncoder().decode('["NaN","Infinity",NaN,"-Infinity \\" NaN"]')).toEqual([
      "NaN",
      "Infinity",
      NaN,
      '-Infinity " NaN',
    ]);
  });
});

describe("values JSON cannot carry", () => {
  it.each([
    [[1, undefined], {}, "args[1]", "undefined"],
    [[() => 1], {}, "args[0]", "a function"],
    [[Symbol("s")], {}, "args[0]", "a symbol"],
    [[{ a: [1, { b: undefined }] }], {}, "args[0].a[1].b", "undefined"],
    [[], { x: { y: undefined } }, "kwargs.x.y", "undefined"],
    [[], { "odd key": { f: Math.max } }, 'kwargs["odd key"].f', "a function"],
  ])(
    "rejects %p %p at send with EncodeError naming %s, and enqueues nothing",
    async (args, kwargs, path, what) => {
      const h = await harness();
      cleanups.push(h.stop);
      const enqueued: unknown[] = [];
      h.broker.addMiddleware(
        new (class extends Middleware {
          override afterEnqueue(_broker: Broker, message: Message) {
            enqueued.push(message);
          }
        })(),
      );
      const work = actor((..._: unknown[]) => undefined, { broker: h.broker, actorName: "carry" });
      const error = (await work
        .sendWithOptions({ args, kwargs })
        .catch((caught: unknown) => caught)) as EncodeError;
      expect(error).toBeInstanceOf(EncodeError);
      expect(error.path).toBe(path);
      expect(error.message).toBe(
        `cannot encode ${path} as JSON: ${what} has no JSON form (Python's json module has none either; send null or leave the key out)`,
      );
      expect(enqueued).toEqual([]);
    },
  );

  it("names a cycle", () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => new Message({ queueName: "q", actorName: "a", args: [loop] }).encode()).toThrow(
      "cannot encode args[0].self as JSON: it refers back to itself (a cycle)",
    );
  });
});

describe("invalid UTF-8", () => {
  // Valid JSON around the byte 0xff, which no UTF-8 text holds; Python's decode("utf-8") refuses it.
  const bytes = Buffer.concat([
    Buffer.from('{"queue_name":"utf","actor_name":"utf8","args":["caf'),
    Buffer.from([0xff]),
    Buffer.from('"],"kwargs":{},"options":{},"message_id":"u-1","message_timestamp":1}'),
  ]);

  it("is a DecodeError naming the byte, not text with U+FFFD", () => {
    let error: unknown;
    try {
      new JSONEncoder().decode(bytes);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toContain(
      "not valid UTF-8 (an invalid byte sequence at byte 52: 0xff",
    );
    // Overlong forms and surrogates are refused too.
    expect(() =>
      new JSONEncoder().decode(Buffer.from([0x5b, 0x22, 0xc0, 0xaf, 0x22, 0x5d])),
    ).toThrow(/at byte 2: 0xc0af/);
    expect(() =>
      new JSONEncoder().decode(Buffer.from([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d])),
    ).toThrow(/at byte 2: 0xeda080/);
  });

  it("dead-letters the message on the StubBroker with the reason, without running it", async () => {
    const h = await harness();
    cleanups.push(h.stop);
    const ran: unknown[] = [];
    actor((text: string) => void ran.push(text), {
      broker: h.broker,
      actorName: "utf8",
      queueName: "utf",
    });
    h.broker.enqueueRaw("utf", bytes);
    await h.broker.join("utf", { failFast: false });
    expect(ran).toEqual([]);
    const [letter] = h.broker.deadLetters;
    expect(DecodeError.isInstance(letter!.exception)).toBe(true);
    expect((letter!.exception as Error).message).toContain("not valid UTF-8");
    expect(letter!.raw!.equals(bytes)).toBe(true);
  });
});
