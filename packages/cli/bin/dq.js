#!/usr/bin/env node
// The `dq` command: @dq/cli's built entry, or how to build it (see @dq/core/bin-entry).
import { runBuiltBin } from "@dq/core/bin-entry";
runBuiltBin(import.meta.url, "dq", "@dq/cli");
