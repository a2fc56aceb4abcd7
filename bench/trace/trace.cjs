// Preload (`node --require bench/trace/trace.cjs`, or NODE_OPTIONS): records every socket write
// and read of the process with a monotonic timestamp (ns) and the process's CPU time (µs), and
// writes them at exit to $DQ_TRACE_DIR (default /tmp) as dq-trace-<pid>.tsv, one event a line:
// time, kind (W write, R read, I idle: the first setImmediate after a write), remote port,
// local port, bytes, CPU µs, and a printable preview of the bytes. See stages.mjs.
const net = require("node:net");
const fs = require("node:fs");
const path = require("node:path");

const events = [];
const now = () => process.hrtime.bigint();
const cpu = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
const preview = (chunk) =>
  String(chunk)
    .slice(0, 100)
    .replace(/[\x00-\x1f]/g, (char) => (char === "\n" ? "\\n" : "."));

let idlePending = false;
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (chunk, ...rest) {
  if (this.remotePort) {
    events.push([now(), "W", this.remotePort, this.localPort, chunk.length, cpu(), preview(chunk)]);
    if (!idlePending) {
      idlePending = true;
      setImmediate(() => {
        idlePending = false;
        events.push([now(), "I", 0, 0, 0, cpu(), "idle"]);
      });
    }
  }
  return write.call(this, chunk, ...rest);
};
const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (name, chunk, ...rest) {
  if (name === "data" && this.remotePort)
    events.push([now(), "R", this.remotePort, this.localPort, chunk.length, cpu(), preview(chunk)]);
  return emit.call(this, name, chunk, ...rest);
};

process.on("exit", () => {
  const file = path.join(process.env.DQ_TRACE_DIR ?? "/tmp", `dq-trace-${process.pid}.tsv`);
  fs.writeFileSync(file, events.map((event) => event.join("\t")).join("\n"));
});
