/**
 * Runs the built command next to a committed bin: `../dist/bin.js` from the bin's file. When that
 * file is missing (the package is not built yet), prints how to build it and exits with 1.
 * @param binUrl - the bin's `import.meta.url`
 * @param command - the command's name, e.g. `dq`
 * @param packageName - the package's name, e.g. `@dq/cli`
 */
export declare function runBuiltBin(
  binUrl: string,
  command: string,
  packageName: string,
): Promise<void>;
