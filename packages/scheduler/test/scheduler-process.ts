// Spawns the real built `dq-scheduler` command and watches its output.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const packageDir = path.resolve(__dirname, "..");
export const binPath = path.join(packageDir, "dist", "bin.js");
export const fixture = (name: string) => path.join(packageDir, "test", "fixtures", name);

/** One `dq-scheduler` process with its output and the times it became leader. */
export class SchedulerProcess {
  readonly child: ChildProcess;
  output = "";
  /** Date.now() of each "is now the leader" line. */
  readonly ledAt: number[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: Record<string, string | undefined>) {
    this.child = spawn(process.execPath, [binPath, ...args], {
      cwd: packageDir,
      env: { ...process.env, DQ_LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const take = (chunk: Buffer) => {
      const text = chunk.toString();
      this.output += text;
      for (const _ of text.matchAll(/is now the leader/g)) this.ledAt.push(Date.now());
    };
    this.child.stdout!.on("data", take);
    this.child.stderr!.on("data", take);
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get leading(): boolean {
    return this.ledAt.length > 0 && !/lost leadership|stopped and resigned/.test(this.output);
  }
}
