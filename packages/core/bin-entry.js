// The shared body of the dq packages' committed bin files (`dq`, `dq-dashboard`, `dq-scheduler`).
// A bin pointing into dist/ is skipped by `pnpm install` on a fresh clone, so each package commits
// a small bin outside dist/ that calls this; it is plain JavaScript, outside dist/ too, so that it
// runs before the first build, when it prints how to build instead of a stack trace.
import { fileURLToPath } from "node:url";

/**
 * Runs the built command next to a committed bin: `../dist/bin.js` from the bin's file. When that
 * file is missing (the package is not built yet), prints how to build it and exits with 1.
 * @param {string} binUrl - the bin's `import.meta.url`
 * @param {string} command - the command's name, e.g. `dq`
 * @param {string} packageName - the package's name, e.g. `@dq/cli`
 * @returns {Promise<void>} settles once the built entry is imported
 */
export function runBuiltBin(binUrl, command, packageName) {
  const entry = new URL("../dist/bin.js", binUrl);
  return import(entry.href).then(
    () => undefined,
    (error) => {
      // Only the entry itself missing: a module it imports being missing is another error.
      const missing = `'${fileURLToPath(entry)}'`;
      if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes(missing)) {
        process.stderr.write(
          `${command}: ${packageName} is not built yet (dist/bin.js is missing): run \`bash scripts/pnpm.sh build\` at the repository root\n`,
        );
        process.exit(1);
      }
      throw error;
    },
  );
}
