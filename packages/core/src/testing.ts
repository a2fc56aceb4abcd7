/**
 * @dq/core/testing — the helpers the dq packages' tests share (and an adapter's tests may use):
 * polling, rejections, unique names, a recording logger, server gating, port probes, private
 * redis-servers (alone, with sentinels, as a cluster) and RabbitMQ nodes (alone or clustered),
 * test certificates, the recorded Python wire fixtures and a fake clock with timers. Not for production code: `describeWithServer` needs jest.
 */
export { waitFor, rejection, uniqueQueueName, recordingLogger } from "./testing/wait.js";
export type { RecordingLogger } from "./testing/wait.js";
export { loadWireFixture, restoreRedisRecording, withEta } from "./testing/wire-fixtures.js";
export type { RecordedRedisKey, RedisWriter } from "./testing/wire-fixtures.js";
export {
  addressFromServers,
  addressFromUrl,
  describeWithServer,
  serverReachable,
} from "./testing/servers.js";
export type { ServerAddress } from "./testing/servers.js";
export { freePort, portOpen, redisAnswers, amqpAnswers } from "./testing/net.js";
export { APPEND_ONLY, PrivateRedis, redisServerAvailable } from "./testing/private-redis.js";
export { FakeClock } from "./testing/fake-clock.js";
export { PrivateSentinelSet, usePrivateSentinels } from "./testing/private-sentinel.js";
export { PrivateRedisCluster } from "./testing/private-cluster.js";
export { createTestCertificates } from "./testing/test-certificates.js";
export {
  PrivateRabbitmqCluster,
  PrivateRabbitmqNode,
  RABBITMQ_SERVER,
  rabbitmqServerAvailable,
} from "./testing/private-rabbitmq.js";
export type { PrivateRabbitmqConfig } from "./testing/private-rabbitmq.js";
export type { TestCertificates } from "./testing/test-certificates.js";
