// The suite runs real servers and child processes: two files at a time at most (the machine is
// shared), generous timeouts, and a global teardown that prints the table of this run.
const path = require("node:path");

module.exports = {
  ...require("../../jest.config.base.cjs"),
  maxWorkers: 2,
  testTimeout: 240_000,
  globalSetup: path.join(__dirname, "test/global-setup.ts"),
  globalTeardown: path.join(__dirname, "test/global-teardown.ts"),
};
