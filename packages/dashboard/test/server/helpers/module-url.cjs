// src/module-url.ts for jest (CommonJS has no import.meta): the package's built dist/.
const path = require("node:path");
const { pathToFileURL } = require("node:url");

module.exports = {
  packageDirectoryUrl: pathToFileURL(path.join(__dirname, "../../../dist/")).href,
};
