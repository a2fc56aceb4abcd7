// Fails when two files of src/ import each other, directly or through others (type-only imports
// and re-exports included). Run by `pnpm lint`; `npx madge --circular --extensions ts src` agrees.
import { readdirSync, readFileSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";
import { fileURLToPath } from "node:url";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../src");
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
};
walk(src);

const imports = new Map();
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const targets = [
    ...text.matchAll(
      /(?:import|export)\s[^;]*?from\s+"(\.{1,2}\/[^"]+)"|import\s+"(\.{1,2}\/[^"]+)"/g,
    ),
  ].map((match) => resolve(dirname(file), (match[1] ?? match[2]).replace(/\.js$/, ".ts")));
  imports.set(
    file,
    targets.filter((target) => files.includes(target)),
  );
}

const state = new Map();
const cycles = [];
const visit = (file, stack) => {
  state.set(file, "open");
  for (const target of imports.get(file)) {
    if (state.get(target) === "open") cycles.push([...stack.slice(stack.indexOf(target)), target]);
    else if (!state.has(target)) visit(target, [...stack, target]);
  }
  state.set(file, "done");
};
for (const file of files) if (!state.has(file)) visit(file, [file]);

if (cycles.length) {
  for (const cycle of cycles)
    console.error(`import cycle: ${cycle.map((file) => relative(src, file)).join(" -> ")}`);
  process.exit(1);
}
