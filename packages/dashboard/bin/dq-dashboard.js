#!/usr/bin/env node
// The `dq-dashboard` command: @dq/dashboard's built entry, or how to build it (see @dq/core/bin-entry).
import { runBuiltBin } from "@dq/core/bin-entry";
runBuiltBin(import.meta.url, "dq-dashboard", "@dq/dashboard");
