import { maskUrl } from "@dq/core/adapter";
import type { RatePoint } from "./source.js";

/** A queue as the management API lists it (the columns read). */
export interface ManagedQueue {
  name: string;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
}

interface Sample {
  sample: number;
  timestamp: number;
}

/** A consumer as `/api/consumers` lists it. */
export interface ManagedConsumer {
  consumer_tag: string;
  prefetch_count?: number;
  queue: { name: string };
  channel_details: {
    name: string;
    connection_name: string;
    peer_host?: string;
    peer_port?: number;
  };
}

/** The management URL for an AMQP URL: same host, port 15672, same credentials (guest:guest by default). */
export function managementUrlFor(amqpUrl: string): string {
  const parsed = new URL(amqpUrl);
  const user = decodeURIComponent(parsed.username || "guest");
  const password = decodeURIComponent(parsed.password || "guest");
  const scheme = parsed.protocol === "amqps:" ? "https" : "http";
  const port = parsed.protocol === "amqps:" ? 15671 : 15672;
  const url = new URL(`${scheme}://${parsed.hostname}:${port}/`);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** The vhost of an AMQP URL (`/` when the path is empty). */
export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path.length > 1 ? decodeURIComponent(path.slice(1)) : "/";
}

/** The RabbitMQ management HTTP API: counts, message rates, consumers. */
export class ManagementApi {
  private readonly base: string;
  private readonly authorization: string;
  private readonly vhost: string;

  constructor(url: string, vhost: string) {
    const parsed = new URL(url);
    const user = decodeURIComponent(parsed.username || "guest");
    const password = decodeURIComponent(parsed.password || "guest");
    this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    parsed.username = "";
    parsed.password = "";
    this.base = parsed.toString().replace(/\/$/, "");
    this.vhost = encodeURIComponent(vhost);
  }

  /** GETs a path of the API. */
  async get<T>(path: string): Promise<T> {
    const url = `${this.base}/api/${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: this.authorization },
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new Error(
        `RabbitMQ management API at ${maskUrl(this.base)} unreachable (enable it: rabbitmq-plugins enable rabbitmq_management): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!response.ok) {
      throw new Error(`RabbitMQ management API ${maskUrl(url)} answered ${response.status}`);
    }
    return (await response.json()) as T;
  }

  /** The queues of the vhost (at most 5000), with their counts. */
  queues(): Promise<ManagedQueue[]> {
    return this.get<ManagedQueue[]>(
      `queues/${this.vhost}?columns=name,messages,messages_ready,messages_unacknowledged,consumers&disable_stats=false`,
    ).then((queues) => queues.slice(0, 5000));
  }

  /** Per-minute deltas of a cumulative message stat of a queue (`ack`, `publish`) over `minutes`. */
  async perMinute(queue: string, stat: string, minutes: number): Promise<RatePoint[]> {
    const age = minutes * 60;
    type Detail = { message_stats?: Record<string, { samples?: Sample[] }> };
    const detail: Detail = await this.get<Detail>(
      `queues/${this.vhost}/${encodeURIComponent(queue)}?msg_rates_age=${age}&msg_rates_incr=60&lengths_age=60&lengths_incr=60`,
    ).catch((error: unknown) => {
      if (error instanceof Error && / 404$/.test(error.message)) return {};
      throw error;
    });
    const samples = detail.message_stats?.[`${stat}_details`]?.samples ?? [];
    return minuteDeltas(samples, minutes);
  }

  /** The vhost's consumers whose channel is known (see `attributedConsumers`). */
  async consumers(): Promise<ManagedConsumer[]> {
    return attributedConsumers(await this.get<unknown[]>(`consumers/${this.vhost}`));
  }

  /** Connections by name: when they opened and the name the client gave (dq: `dq pid <pid> ...`). */
  async connections(): Promise<Map<string, { connectedAt?: number; clientName?: string }>> {
    const list = await this.get<
      {
        name: string;
        connected_at?: number;
        user_provided_name?: string;
        client_properties?: { connection_name?: string };
      }[]
    >(
      `vhosts/${this.vhost}/connections?columns=name,connected_at,user_provided_name,client_properties`,
    );
    return new Map(
      list.map((c) => [
        c.name,
        {
          connectedAt: c.connected_at,
          clientName: c.user_provided_name ?? c.client_properties?.connection_name,
        },
      ]),
    );
  }

  /** Unacknowledged deliveries by channel name. */
  async unackedByChannel(): Promise<Map<string, number>> {
    const channels = await this.get<{ name: string; messages_unacknowledged?: number }[]>(
      `channels?columns=name,messages_unacknowledged`,
    );
    return new Map(channels.map((c) => [c.name, c.messages_unacknowledged ?? 0]));
  }
}

/**
 * The consumers of a `/api/consumers` reply that can be attributed to a connection. The API lists
 * a consumer as soon as it is created, but fills its `channel_details` from channel statistics,
 * which arrive up to one collection interval (5 s by default) later: until then the field is `[]`.
 * Such a consumer shows on the next poll instead of as a worker with no connection, host or pid.
 */
export function attributedConsumers(reply: readonly unknown[]): ManagedConsumer[] {
  return reply.filter((consumer): consumer is ManagedConsumer => {
    const details = (consumer as { channel_details?: unknown }).channel_details;
    return (
      typeof details === "object" &&
      details !== null &&
      typeof (details as { connection_name?: unknown }).connection_name === "string"
    );
  });
}

/** Cumulative samples (newest first, any spacing) to per-minute counts, oldest first. */
export function minuteDeltas(samples: readonly Sample[], minutes: number): RatePoint[] {
  const current = Math.floor(Date.now() / 60_000) * 60_000;
  const points = Array.from({ length: minutes }, (_, i) => ({
    t: current - (minutes - 1 - i) * 60_000,
    n: 0,
  }));
  const sorted = [...samples].sort((a, b) => a.timestamp - b.timestamp);
  for (let i = 1; i < sorted.length; i++) {
    const delta = sorted[i]!.sample - sorted[i - 1]!.sample;
    if (delta <= 0) continue;
    const t = Math.floor(sorted[i]!.timestamp / 60_000) * 60_000;
    const point =
      points.find((p) => p.t === t) ?? (t > current ? points[points.length - 1] : undefined);
    if (point) point.n += delta;
  }
  return points;
}
