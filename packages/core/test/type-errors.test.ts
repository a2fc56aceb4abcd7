// What the compiler says about bad options: the text must name the option (tsc's own output,
// through the TypeScript API, on a file that imports core's sources). The `test/types/*.types.ts`
// files check *that* these lines fail; this test checks *what* the errors say.
import path from "node:path";
import { describe, expect, it } from "@jest/globals";
import ts from "typescript";

const root = path.resolve(__dirname, "..");
const file = path.join(root, "test", "types", "__error-text__.ts");

/** Each case: one line of code, and texts the compiler's error about that line must contain. */
const cases: { name: string; code: string; expected: string[] }[] = [
  {
    name: "a misspelt actor option",
    code: `actor(function a(x: number) { return x; }, { maxRetires: 3 });`,
    expected: ["maxRetires", "maxRetries"],
  },
  {
    name: "a misspelt option on an arrow function",
    code: `actor((x: number) => x, { actorName: "b", dealy: 3 });`,
    expected: ["dealy"],
  },
  {
    name: "timeLimit as a string",
    code: `actor(function c(x: number) { return x; }, { timeLimit: "30s" });`,
    expected: ["timeLimit", "number"],
  },
  {
    name: "a misspelt message option",
    code: `void add.sendWithOptions({ args: [1, 2], dealy: 1000 });`,
    expected: ["dealy", "delay"],
  },
  {
    name: "a message option of the wrong type",
    code: `void add.sendWithOptions({ args: [1, 2], timeLimit: "30s" });`,
    expected: ["timeLimit", "number"],
  },
  {
    name: "sendWithOptions without args",
    code: `void add.sendWithOptions({ delay: 1000 });`,
    expected: ["args"],
  },
  {
    name: "a zod 3 schema older than 3.24",
    code: `actor((to: string) => to, { actorName: "d", schema: oldZod });`,
    expected: ["~standard"],
  },
  {
    name: "a pipeline step that does not take the previous result",
    code: `pipeline([add.message(1, 2), greet.message.partial("Hi")]);`,
    expected: ["previousResult: number", "name: string"],
  },
];

const header = [
  `import { actor, pipeline } from "../../src/index.js";`,
  `const add = actor(function add(x: number, y: number) { return x + y; });`,
  `const greet = actor(function greet(greeting: string, name: string) { return greeting + name; });`,
  `declare const oldZod: { safeParse(value: unknown): { success: boolean }; _output: [string] };`,
];

function diagnosticsByLine(): Map<number, string> {
  const text = [...header, ...cases.map((c) => c.code)].join("\n");
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (!config) throw new Error("cannot read tsconfig.json");
  const options = { ...config.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    path.resolve(name) === file
      ? ts.createSourceFile(name, text, language)
      : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file)!;
  const byLine = new Map<number, string>();
  for (const diagnostic of ts.getPreEmitDiagnostics(program, source)) {
    const line = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line;
    const parts = [ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")];
    for (const related of diagnostic.relatedInformation ?? [])
      parts.push(ts.flattenDiagnosticMessageText(related.messageText, "\n"));
    byLine.set(line, [byLine.get(line), ...parts].filter(Boolean).join("\n"));
  }
  return byLine;
}

describe("compile errors name what is wrong", () => {
  const byLine = diagnosticsByLine();

  it("reports nothing on the lines that are right", () => {
    for (let line = 0; line < header.length; line++) expect(byLine.get(line)).toBeUndefined();
  });

  cases.forEach((testCase, index) => {
    it(`names it: ${testCase.name}`, () => {
      const message = byLine.get(header.length + index) ?? "(no error)";
      for (const expected of testCase.expected) expect(message).toContain(expected);
    });
  });
});
