// Enqueues a few jobs for the actors of `actors.ts`, for workers run by the `dq` command:
//   DQ_BROKER_URL=redis://127.0.0.1:6379 node dist/send.js
import { getBroker } from "@dq/core";

const url = process.env.DQ_BROKER_URL;
if (!url) throw new Error("send.ts needs DQ_BROKER_URL (e.g. redis://127.0.0.1:6379): the in-memory broker is not shared with dq's workers");
// Importing an adapter registers its URL scheme with getBroker().
const adapter = url.startsWith("amqp") ? "@dq/broker-rabbitmq" : "@dq/broker-redis";
await import(adapter);
const { add, sendEmail } = await import("./actors.js");

for (let i = 1; i <= 5; i++) await add.send(i, i * 10);
for (const user of ["ada", "grace", "linus"]) await sendEmail.send(`${user}@example.com`, "Welcome to dq");
console.log("sent 8 jobs");
await getBroker().close();
