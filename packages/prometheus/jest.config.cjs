const base = require("../../jest.config.base.cjs");

module.exports = {
  ...base,
  // src/module-url.ts reads import.meta, which CommonJS (how jest runs the sources) lacks.
  moduleNameMapper: {
    "^\\./module-url\\.js$": "<rootDir>/test/helpers/module-url.cjs",
    ...base.moduleNameMapper,
  },
};
