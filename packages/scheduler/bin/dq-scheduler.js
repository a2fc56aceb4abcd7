#!/usr/bin/env node
// The `dq-scheduler` command: @dq/scheduler's built entry, or how to build it (see @dq/core/bin-entry).
import { runBuiltBin } from "@dq/core/bin-entry";
runBuiltBin(import.meta.url, "dq-scheduler", "@dq/scheduler");
