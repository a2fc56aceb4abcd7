export { loadWireFixture as loadFixture } from "@dq/core/testing";

export interface RedisAfterWorkerFixture {
  message_ids: { ok: string; failed: string };
  result_key_plain: { ok: string; failed: string };
  result_keys: { ok: string; failed: string };
  results: { ok: string[]; failed: string[] };
}
