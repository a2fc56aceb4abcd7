// The quickstart's actors as a pure actor module, for the `dq` command:
//   DQ_BROKER_URL=redis://127.0.0.1:6379 node_modules/.bin/dq src/actors.ts -p 2
// declares them on the global broker (built from DQ_BROKER_URL); `send.ts` enqueues jobs for them.
import { actor } from "@dq/core";

export const add = actor(
  function add(x: number, y: number) {
    console.log(`[pid ${process.pid}] add(${x}, ${y}) = ${x + y}`);
    return x + y;
  },
  { queueName: "quickstart" },
);

export const sendEmail = actor(
  async function send_email(to: string, subject: string) {
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
    console.log(`[pid ${process.pid}] emailed ${to}: ${subject}`);
  },
  { queueName: "quickstart_emails", priority: 10 },
);
