const base = require("../../jest.config.base.cjs");

module.exports = {
  ...base,
  testMatch: ["<rootDir>/test/server/**/*.test.ts", "<rootDir>/test/browser/**/*.test.ts"],
  // src/module-url.ts reads import.meta, which CommonJS (how jest runs the sources) lacks.
  moduleNameMapper: {
    "^\\./module-url\\.js$": "<rootDir>/test/server/helpers/module-url.cjs",
    ...base.moduleNameMapper,
  },
};
