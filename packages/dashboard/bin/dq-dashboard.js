#!/usr/bin/env node
// The `dq-dashboard` command's entry, committed so that package managers can link the bin before the
// first build (a bin pointing into dist/ is skipped by `pnpm install` on a fresh clone).
import("../dist/bin.js").catch((error) => {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist/bin.js")) {
    process.stderr.write(
      "dq-dashboard: @dq/dashboard is not built yet (dist/bin.js is missing): run `pnpm --filter @dq/dashboard build`\n",
    );
    process.exit(1);
  }
  throw error;
});
