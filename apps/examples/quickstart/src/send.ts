// Enqueues a few jobs for the actors of `actors.ts`, for workers run by the `dq` command:
//   DQ_BROKER_URL=redis://127.0.0.1:6379 node dist/send.js
import { getBrokerAsync } from "@dq/core";

if (!process.env.DQ_BROKER_URL) {
  throw new Error(
    "send.ts needs DQ_BROKER_URL (e.g. redis://127.0.0.1:6379): an in-memory broker is not shared with dq's workers",
  );
}
// Imports the adapter for DQ_BROKER_URL's scheme (@dq/broker-redis, @dq/broker-rabbitmq) before
// the actors module declares its actors on the global broker.
const broker = await getBrokerAsync();
const { add, sendEmail } = await import("./actors.js");

for (let i = 1; i <= 5; i++) await add.send(i, i * 10);
for (const user of ["ada", "grace", "linus"])
  await sendEmail.send(`${user}@example.com`, "Welcome to dq");
console.log("sent 8 jobs");
await broker.close();
