import { createHash } from "node:crypto";

/** The UUID namespace of dq's scheduled messages (a fixed random v4 UUID). */
export const SCHEDULE_NAMESPACE = "5b0f3c1e-8d4a-4f6b-9c2e-7a1d3e5f9b20";

const namespaceBytes = Buffer.from(SCHEDULE_NAMESPACE.replaceAll("-", ""), "hex");

/**
 * The message id of one slot of one schedule: an RFC 4122 version 5 UUID of
 * `<schedule name>\n<slot in UNIX ms>` in `SCHEDULE_NAMESPACE`, so that every scheduler process
 * (and a Python one computing the same) gives a slot the same id.
 */
export function slotMessageId(schedule: string, slot: number): string {
  const hash = createHash("sha1")
    .update(namespaceBytes)
    .update(`${schedule}\n${slot}`, "utf8")
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A delay in `[0, jitterMs]` that is the same for a slot in every process. */
export function slotJitter(schedule: string, slot: number, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  const hash = createHash("sha1").update(`jitter\n${schedule}\n${slot}`, "utf8").digest();
  return hash.readUInt32BE(0) % (jitterMs + 1);
}
