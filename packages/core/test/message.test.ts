import { describe, expect, it } from "@jest/globals";
import {
  DecodeError,
  getEncoder,
  JSONEncoder,
  Message,
  messageJson,
  pythonJson,
  setEncoder,
  V8Encoder,
} from "../src/index.js";
import { uuid4 } from "../src/adapter.js";
import { recordedBodies } from "./helpers.js";

describe("Message on the wire", () => {
  it("encodes to exactly Dramatiq's 7-key JSON, compact, in order", () => {
    const message = new Message({
      queueName: "default",
      actorName: "add",
      args: [1, 2],
      kwargs: {},
      options: {},
      messageId: "5f29f600-6293-4d6d-8439-7a1c43ed2d99",
      messageTimestamp: 1497862448685,
    });
    expect(message.encode().toString()).toBe(
      '{"queue_name":"default","actor_name":"add","args":[1,2],"kwargs":{},"options":{},"message_id":"5f29f600-6293-4d6d-8439-7a1c43ed2d99","message_timestamp":1497862448685}',
    );
  });

  it("maps camelCase option keys to snake_case at the boundary and back", () => {
    const message = new Message({
      queueName: "q",
      actorName: "a",
      options: {
        maxRetries: 3,
        onSuccess: "done",
        pipeIgnore: true,
        redisMessageId: "r",
        requeueTimestamp: 5,
        custom_option: "kept",
        myOption: 1,
      },
    });
    const wire = message.asDict().options;
    expect(Object.keys(wire)).toEqual([
      "max_retries",
      "on_success",
      "pipe_ignore",
      "redis_message_id",
      "requeue_timestamp",
      "custom_option",
      "myOption",
    ]);
    const back = Message.decode(message.encode());
    expect(back.options).toEqual(message.options);
  });

  it("escapes non-ASCII the way Python's json.dumps does", () => {
    expect(pythonJson({ s: "café ☕ 😀 \u007f" })).toBe(
      '{"s":"caf\\u00e9 \\u2615 \\ud83d\\ude00 \\u007f"}',
    );
    const message = new Message({ queueName: "q", actorName: "a", args: ["naïve"] });
    expect(message.encode().toString()).toContain('"args":["na\\u00efve"]');
    expect(Message.decode(message.encode()).args).toEqual(["naïve"]);
  });

  it("messageJson writes the same text as pythonJson of the wire shape, for every kind of value", () => {
    const messages = [
      new Message({ queueName: "q", actorName: "a" }),
      new Message({
        queueName: "qé",
        actorName: "☃",
        args: [
          null,
          NaN,
          -0,
          1e21,
          1e-7,
          2n ** 63n - 1n,
          'a"b\\c\n',
          new Date(0),
          [1, [2, { x: Infinity }]],
        ],
        kwargs: { k: "ü", n: null },
      }),
      new Message({
        queueName: "q",
        actorName: "a",
        args: [{ toJSON: (key: string) => `key:${key}` }],
        options: { maxRetries: 3, retries: undefined, custom: { deep: ["😀", -Infinity] } },
      }),
    ];
    for (const message of messages) {
      const data = message.asDict();
      expect(messageJson(data)).toBe(pythonJson(data));
      expect(message.encode().toString("latin1")).toBe(pythonJson(data));
    }
    // A toJSON on kwargs is told its key ("kwargs"), as in one walk of the whole object.
    const keyed = new Message({
      queueName: "q",
      actorName: "a",
      kwargs: { toJSON: (key: string) => ({ key }) },
    }).asDict();
    expect(messageJson(keyed)).toContain('"kwargs":{"key":"kwargs"}');
    // A shape other than asDict's (no message_id) takes pythonJson's own path.
    const { message_id: _id, ...partial } = messages[0]!.asDict();
    expect(messageJson(partial as never)).toBe(pythonJson(partial));
    expect(
      messageJson(new Message({ queueName: "q", actorName: "a", args: [1n] }).asDict()),
    ).toContain('"args":[1]');
  });

  it("uuid4 gives random version 4 UUIDs, as crypto.randomUUID does", () => {
    const ids = Array.from({ length: 5000 }, () => uuid4());
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Every hex digit position varies (no slot left at its template value).
    const positions = Array.from(
      { length: 36 },
      (_, index) => new Set(ids.map((id) => id[index])).size,
    );
    expect(positions.filter((count) => count >= 16)).toHaveLength(30);
  });

  it("decodes Python's NaN and Infinity tokens", () => {
    const body =
      '{"queue_name":"q","actor_name":"a","args":[NaN,Infinity,-Infinity,"NaN"],"kwargs":{},"options":{},"message_id":"x","message_timestamp":1}';
    const message = Message.decode(body);
    expect(message.args[0]).toBeNaN();
    expect(message.args.slice(1)).toEqual([Infinity, -Infinity, "NaN"]);
  });

  it("round-trips every message body Python recorded, byte for byte", () => {
    const bodies = recordedBodies();
    expect(bodies.length).toBeGreaterThanOrEqual(10);
    for (const body of bodies) {
      const message = Message.decode(body);
      expect(Object.keys(message.asDict())).toEqual([
        "queue_name",
        "actor_name",
        "args",
        "kwargs",
        "options",
        "message_id",
        "message_timestamp",
      ]);
      expect(message.encode().toString()).toBe(body);
    }
  });

  it("reads the nested pipe_target, group callbacks and retry options of the recordings", () => {
    const messages = recordedBodies().map((body) => Message.decode(body));
    const piped = messages.find((m) => m.options.pipeTarget);
    expect(piped).toBeDefined();
    const next = Message.fromDict(piped!.options.pipeTarget);
    expect(next.actorName).toBeTruthy();
    const grouped = messages.find((m) => m.options.groupCompletionUuid);
    expect(grouped!.options.groupCompletionCallbacks![0]!.actor_name).toBe("done");
    const failed = messages.find((m) => m.options.retries !== undefined);
    expect(failed!.options.retries).toBe(1);
    expect(failed!.options.traceback).toContain("ValueError: bad input");
    expect(typeof failed!.options.requeueTimestamp).toBe("number");
    const kw = messages.find((m) => Object.keys(m.kwargs).length > 0);
    expect(kw!.kwargs).toEqual({ y: 5 });
    expect(kw!.options.onSuccess).toBe("done");
    expect(kw!.options.custom_option).toBe("kept");
  });

  it("rejects garbage with a DecodeError that shows the data", () => {
    expect(() => Message.decode("not json at all")).toThrow(DecodeError);
    expect(() => Message.decode("not json at all")).toThrow(/not json at all/);
    expect(() => Message.decode(Buffer.from([0xff, 0x00, 0x12]))).toThrow(DecodeError);
  });

  it("rejects valid JSON that is not a message, naming the problem", () => {
    expect(() => Message.decode("[1,2,3]")).toThrow(DecodeError);
    expect(() => Message.decode('{"queue_name":"q"}')).toThrow(/actor_name/);
    expect(() =>
      Message.decode('{"queue_name":"q","actor_name":"a","args":{},"kwargs":{},"options":{}}'),
    ).toThrow(/args/);
  });

  it("rejects each badly typed envelope field with a DecodeError naming it", () => {
    const base = {
      queue_name: "q",
      actor_name: "a",
      args: [],
      kwargs: {},
      options: {},
      message_id: "x",
      message_timestamp: 1,
    };
    const bad: [string, unknown][] = [
      ["queue_name", ""],
      ["actor_name", 3],
      ["args", "nope"],
      ["kwargs", []],
      ["options", null],
      ["message_id", ""],
      ["message_timestamp", 1.5],
      ["message_timestamp", "1"],
    ];
    for (const [key, value] of bad) {
      expect(() => Message.fromDict({ ...base, [key]: value })).toThrow(DecodeError);
      expect(() => Message.fromDict({ ...base, [key]: value })).toThrow(new RegExp(key));
    }
    const missing: Record<string, unknown> = { ...base };
    delete missing.kwargs;
    expect(() => Message.fromDict(missing)).toThrow(/kwargs/);
  });

  it("does not share the args and kwargs of the data it was built from", () => {
    const data = {
      queue_name: "q",
      actor_name: "a",
      args: [1, [2]],
      kwargs: { k: 1 },
      options: { max_retries: 2 },
    };
    const message = Message.fromDict(data);
    data.args.push(9);
    data.kwargs.k = 5;
    expect(message.args).toEqual([1, [2]]);
    expect(message.kwargs).toEqual({ k: 1 });
    expect(message.options).toEqual({ maxRetries: 2 });
  });

  it("rejects a message with an extra top-level key, as Python does", () => {
    const body =
      '{"queue_name":"q","actor_name":"a","args":[],"kwargs":{},"options":{},"message_id":"x","message_timestamp":1,"priority":3}';
    expect(() => Message.decode(body)).toThrow(DecodeError);
    expect(() => Message.decode(body)).toThrow(/priority/);
  });

  it("fills message_id and message_timestamp when a producer omits them", () => {
    const message = Message.decode(
      '{"queue_name":"q","actor_name":"a","args":[],"kwargs":{},"options":{}}',
    );
    expect(message.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(message.messageTimestamp).toBeGreaterThan(0);
  });

  it("copies with options merged shallowly, and prints like Dramatiq", () => {
    const message = new Message({
      queueName: "q",
      actorName: "add",
      args: [1, "x"],
      kwargs: { k: 2 },
      options: { a: 1, b: 2 },
    });
    const copy = message.copy({ queueName: "q.DQ", options: { b: 3, eta: 10 } });
    expect(copy.options).toEqual({ a: 1, b: 3, eta: 10 });
    expect(message.options).toEqual({ a: 1, b: 2 });
    expect(copy.messageId).toBe(message.messageId);
    expect(String(message)).toBe('add(1, "x", k=2)');
    expect(message.messageDatetime).toBeInstanceOf(Date);
    expect(message.messageDatetime.getTime()).toBe(message.messageTimestamp);
  });
});

describe("encoders", () => {
  it("V8Encoder keeps rich types, and setEncoder switches the global encoder", () => {
    const previous = getEncoder();
    try {
      setEncoder(new V8Encoder());
      const when = new Date(1_700_000_000_000);
      const message = new Message({
        queueName: "q",
        actorName: "a",
        args: [when, new Map([["k", 1n]])],
      });
      const back = Message.decode(message.encode());
      expect(back.args[0]).toEqual(when);
      expect([...(back.args[1] as Map<string, bigint>).entries()]).toEqual([["k", 1n]]);
      expect(() => Message.decode(Buffer.from("garbage"))).toThrow(DecodeError);
    } finally {
      setEncoder(previous);
    }
    expect(getEncoder()).toBeInstanceOf(JSONEncoder);
  });
});
