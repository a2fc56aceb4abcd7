// Interleaved A/B of the old and new broker in one process: B1 (sequential awaited sends) and B1b (one enqueueMany).
import { Message, createLogger } from "/work/wt/rabbit/packages/core/dist/index.js";
import * as oldPkg from "./index.js";
import * as newPkg from "../dist/index.js";
import amqp from "amqplib";
const url = "amqp://guest:guest@127.0.0.1:5672";
const [rounds = 5, n = 10000, bulk = 20000, confirmN = 500] = process.argv.slice(2).map(Number);
const logger = createLogger("ab", () => undefined);
const results = {};
const add = (k, v) => (results[k] ??= []).push(v);
const conn = await amqp.connect(url);
async function del(q) { const ch = await conn.createChannel(); for (const x of [q, q + ".DQ", q + ".XQ"]) await ch.deleteQueue(x).catch(() => {}); await ch.close().catch(() => {}); }
async function run(label, Pkg, confirmDelivery, count, mode) {
  const q = `dqab_${Math.random().toString(16).slice(2, 10)}`;
  const broker = new Pkg.RabbitmqBroker({ url, logger, middleware: [], confirmDelivery });
  broker.declareQueue(q);
  await broker.enqueue(new Message({ queueName: q, actorName: "a", args: [] }));
  const msgs = Array.from({ length: count }, (_, i) => new Message({ queueName: q, actorName: "a", args: [i] }));
  const t = process.hrtime.bigint();
  if (mode === "B1") for (const m of msgs) await broker.enqueue(m);
  else await broker.enqueueMany(msgs);
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  add(`${label} ${mode}`, Math.round(count / s));
  await broker.close(); await del(q);
}
for (let r = 0; r < rounds; r++) {
  await run("old", oldPkg, false, n, "B1");
  await run("new", newPkg, false, n, "B1");
  await run("old", oldPkg, false, bulk, "B1b");
  await run("new", newPkg, false, bulk, "B1b");
  await run("new confirms", newPkg, true, confirmN, "B1");
  await run("new confirms", newPkg, true, bulk, "B1b");
}
await conn.close();
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(20)} median ${String(median(v)).padStart(7)} jobs/s   runs ${v.join(", ")}`);
