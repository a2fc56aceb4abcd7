// Micro-benchmark of the message encode/decode path (JSONEncoder), comparing builds in one process:
//   node packages/core/bench/encoder.bench.mjs [path/to/core/dist/index.js ...]
// Rounds alternate between the builds; the figure is the fastest round (CPU ns per operation),
// the least disturbed by other load on the machine. Cases: a small message, one with 50 mixed
// arguments, and (builds that can encode them) NaN/BigInt/1e-7 values, which take the slow path.
import { pathToFileURL } from "node:url";
import path from "node:path";

const targets = process.argv.slice(2);
if (targets.length === 0) targets.push(path.resolve(import.meta.dirname, "../dist/index.js"));
const ROUNDS = 25;

// CPU time of this process (user + system), not wall time: a loaded machine (tests of other
// engineers on the same cores) stretches wall time far more than the CPU a round uses.
function round(fn, iterations) {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / iterations;
}

const builds = [];
for (const target of targets) {
  const { Message } = await import(pathToFileURL(path.resolve(target)).href);
  const cases = {
    small: new Message({
      queueName: "default",
      actorName: "add",
      args: [1, 2],
      options: { redisMessageId: "0b5c8a0e-8a43-4a53-9b4a-2f5e1f0c9d11" },
    }),
    mixed: new Message({
      queueName: "default",
      actorName: "report",
      args: Array.from({ length: 50 }, (_, i) =>
        i % 3 === 0 ? `item-${i}` : i % 3 === 1 ? i * 1.5 : { id: i, tags: ["a", "b"], ok: true },
      ),
      kwargs: { user: { name: "Zoë", id: 1234567890123 } },
    }),
  };
  try {
    const special = new Message({
      queueName: "default",
      actorName: "add",
      args: [NaN, 2n ** 63n - 1n, 1e-7],
    });
    special.encode();
    cases.special = special;
  } catch {
    // An old build cannot encode a BigInt.
  }
  builds.push({ target, Message, cases });
}

for (const name of ["small", "mixed", "special"]) {
  const iterations = name === "mixed" ? 5_000 : 50_000;
  const best = builds.map(() => ({ encode: Infinity, decode: Infinity }));
  for (let r = 0; r < ROUNDS; r++) {
    builds.forEach(({ Message, cases }, index) => {
      const message = cases[name];
      if (!message) return;
      const bytes = message.encode();
      best[index].encode = Math.min(
        best[index].encode,
        round(() => message.encode(), iterations),
      );
      best[index].decode = Math.min(
        best[index].decode,
        round(() => Message.decode(bytes), iterations),
      );
    });
  }
  builds.forEach(({ target, cases }, index) => {
    if (!cases[name]) return;
    const size = cases[name].encode().length;
    console.log(
      `${name.padEnd(8)} ${String(size).padStart(5)} B  encode ${best[index].encode.toFixed(0).padStart(6)} ns  decode ${best[index].decode.toFixed(0).padStart(6)} ns  ${target}`,
    );
  });
}
