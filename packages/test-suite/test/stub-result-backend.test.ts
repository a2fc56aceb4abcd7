import { StubResultBackend } from "@dq/core";
import { defineResultBackendTests } from "../src/index.js";

defineResultBackendTests("StubResultBackend", (options) => new StubResultBackend(options));
