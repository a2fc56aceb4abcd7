// The `dq-dashboard` command (bin/dq-dashboard.js imports this file).
import { runCli } from "./cli.js";

const running = await runCli(process.argv.slice(2));
if (typeof running === "number") {
  process.exit(running);
} else {
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
