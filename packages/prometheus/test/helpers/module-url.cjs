// Jest runs the sources as CommonJS, where import.meta does not exist: src/module-url.ts maps
// here, pointing `forks` at the built package (dist/), which is what `dq` would run anyway.
const path = require("node:path");
const { pathToFileURL } = require("node:url");

module.exports = {
  packageDirectoryUrl: `${pathToFileURL(path.join(__dirname, "..", "..", "dist")).href}/`,
};
