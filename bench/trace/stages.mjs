// Reads the traces of one B3 run (trace.cjs: the harness and its worker child) and prints, for
// each stage of a job, the median time since the stage it is measured from and the median CPU
// time of the process over that interval (when both events are in the same process).
//
//   node bench/trace/stages.mjs dq|bee-queue|dq-rabbitmq|redis-floor|floor [trace dir]   (floor: as dq)
//
// A job's window runs from the harness reading one completion signal to reading the next.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// [label, process (P harness/producer, C worker child), kind, pattern, measured from (step index; default the previous)]
// Every system ends the same way: the worker publishes the harness's signal, which the harness reads.
const signal = (seen) => [
  ["-> completion published", "C", "W", "publish"],
  ["-> completion seen", "P", "R", seen],
];
// A Redis system whose worker acks in one round trip: [name, pattern] of the enqueue, of the job
// arriving at the worker, and of the ack, then the ack reply's pattern.
const ackedRoundTrip = ({
  enqueue: [enqueue, enqueueAt],
  arrival: [arrival, arrivalAt],
  ack: [ack, ackAt],
  reply,
}) => [
  [`completion seen -> ${enqueue} written`, "P", "W", enqueueAt],
  [`${enqueue} written -> ${arrival} at the worker`, "C", "R", arrivalAt, 1],
  [`-> ${ack} written`, "C", "W", ackAt],
  [`-> ${ack} reply`, "C", "R", reply],
  ...signal("message"),
];
const STAGES = {
  // dq on Redis, and floor.mjs (dq's scripts with a bare client).
  dq: ackedRoundTrip({
    enqueue: ["enqueue", "evalsha"],
    arrival: ["message", "__handoff__"],
    ack: ["ack", "evalsha"],
    reply: "^\\*|^:",
  }),
  // The bench's redis-floor system: LPUSH; BLMOVE to a processing list; LREM.
  "redis-floor": ackedRoundTrip({
    enqueue: ["LPUSH", "lpush"],
    arrival: ["BLMOVE reply", "^\\$"],
    ack: ["LREM", "lrem"],
    reply: "^:",
  }),
  "bee-queue": [
    ["completion seen -> enqueue written", "P", "W", "evalsha"],
    ["enqueue written -> BRPOPLPUSH reply at the worker", "C", "R", "^\\$", 1],
    ["-> HGET written", "C", "W", "hget"],
    ["-> HGET reply", "C", "R", "data"],
    ["-> MULTI written", "C", "W", "multi"],
    ["-> MULTI reply", "C", "R", "QUEUED"],
    ...signal("bench-don"),
  ],
  "dq-rabbitmq": [
    ["completion seen -> basic.publish written", "P", "W", "dqbench_"],
    ["publish written -> delivery at the worker", "C", "R", "amq\\.ctag", 1],
    ...signal("bench-don"),
  ],
};

const steps = STAGES[process.argv[2] === "floor" ? "dq" : (process.argv[2] ?? "dq")];
if (!steps)
  throw new Error(`unknown stage set ${process.argv[2]}; one of ${Object.keys(STAGES).join(", ")}`);
const dir = process.argv[3] ?? process.env.DQ_TRACE_DIR ?? "/tmp";
const events = [];
for (const name of readdirSync(dir).filter((file) => /^dq-trace-\d+\.tsv$/.test(file))) {
  for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
    if (!line) continue;
    const [time, kind, , , , cpu, ...text] = line.split("\t");
    events.push({ time: BigInt(time), kind, cpu: Number(cpu), text: text.join("\t"), file: name });
  }
}
events.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
const isSignal = (event) =>
  event.kind === "R" && event.text.includes("message") && /bench-don|:done/.test(event.text);
const harness = events.find(isSignal)?.file;
if (!harness) throw new Error(`no completion signal in the traces of ${dir}`);

const windows = [];
let current;
for (const event of events) {
  if (event.file === harness && isSignal(event)) {
    if (current) windows.push([...current, event]);
    current = [event];
  } else current?.push(event);
}
const gaps = steps.map(() => []);
const cpus = steps.map(() => []);
let matched = 0;
// The first windows are the harness's warm-up.
for (const window of windows.slice(25)) {
  const at = [0];
  const row = [];
  for (const [, who, kind, pattern, from] of steps) {
    const base = at[from ?? at.length - 1];
    const regex = new RegExp(pattern);
    let index = base + 1;
    while (
      index < window.length &&
      !(
        (window[index].file === harness) === (who === "P") &&
        window[index].kind === kind &&
        regex.test(window[index].text)
      )
    )
      index++;
    if (index >= window.length) break;
    const same = window[index].file === window[base].file;
    row.push([
      Number(window[index].time - window[base].time) / 1000,
      same ? window[index].cpu - window[base].cpu : NaN,
    ]);
    at.push(index);
  }
  if (row.length !== steps.length) continue;
  matched++;
  row.forEach(([gap, cpu], index) => {
    gaps[index].push(gap);
    cpus[index].push(cpu);
  });
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`${matched} of ${windows.length} jobs had every stage; medians in µs:`);
steps.forEach(([label], index) => {
  const cpu = median(cpus[index]);
  console.log(
    `${median(gaps[index]).toFixed(0).padStart(6)}  ${Number.isNaN(cpu) ? "        " : `cpu ${String(cpu).padStart(4)}`}  ${label}`,
  );
});
