// One base config that every package spreads. Tests run TypeScript sources through ts-jest
// (transpile only: type checking is `pnpm typecheck`), with workspace packages mapped to their
// sources so a test never runs against a stale build.
const path = require("node:path");

const packagesDir = path.join(__dirname, "packages");

module.exports = {
  testEnvironment: "node",
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  setupFiles: [path.join(__dirname, "jest.setup.cjs")],
  transform: {
    "^.+\\.ts$": [
      "ts-jest",
      {
        diagnostics: false,
        tsconfig: {
          isolatedModules: true,
          module: "commonjs",
          moduleResolution: "node",
          verbatimModuleSyntax: false,
          target: "ES2022",
          esModuleInterop: true,
        },
      },
    ],
  },
  moduleNameMapper: {
    "^@dq/([a-z-]+)$": `${packagesDir}/$1/src/index.ts`,
    "^@dq/([a-z-]+)/(.*)$": `${packagesDir}/$1/src/$2.ts`,
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  testTimeout: 30_000,
};
