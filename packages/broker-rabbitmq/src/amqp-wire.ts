import type { Duplex } from "node:stream";
import type { Channel } from "amqplib";
import { ConnectionClosed } from "@dq/core";
import { AmqplibIncompatible } from "./errors.js";

/**
 * What amqplib's public API cannot do for dq, done through the few internals it needs:
 *
 * - `publish` always sends a `headers` table (empty when none is given), where Python Dramatiq
 *   (pika) sends none: dq writes the `basic.publish` frame with `Channel#sendMessage` and only the
 *   properties Python sets.
 * - `publish` returns once the frame is queued in the channel's write buffer; amqplib's muxer moves
 *   it to the socket on a later `setImmediate`, so a process that exits after an awaited send
 *   could lose it. `WriteBarrier` learns when the frames reached the socket.
 */

/** The properties dq publishes, as Python Dramatiq does: persistent, and a priority when set. */
export interface WireProperties {
  deliveryMode: 2;
  priority?: number;
}

interface ConnectionInternals {
  stream: Duplex;
  channels: ({ buffer: Duplex } | null | undefined)[];
}

interface ChannelInternals {
  ch: number;
  connection: ConnectionInternals;
  sendMessage(
    fields: Record<string, unknown>,
    properties: Record<string, unknown>,
    content: Buffer,
  ): boolean;
  pushConfirmCallback(callback: (error: unknown) => void): void;
}

/** The internals of one amqplib channel that publishing uses. */
export interface ChannelWire {
  /** The connection's socket. */
  socket: Duplex;
  /** The channel's write buffer, which amqplib's muxer drains into the socket. */
  buffer: Duplex;
  /**
   * Writes `basic.publish` on the default exchange with exactly `properties` (no `headers`).
   * `onConfirm` is registered as the publisher-confirm callback (confirm channels only).
   * @returns false when the channel's write buffer is full (wait for its `drain`)
   */
  publish(
    queueName: string,
    body: Buffer,
    properties: WireProperties,
    mandatory: boolean,
    onConfirm?: (error: unknown) => void,
  ): boolean;
}

/**
 * The internals of `channel`, checked.
 * @throws AmqplibIncompatible when the installed amqplib lacks one
 */
export function wireOf(channel: Channel): ChannelWire {
  const internals = channel as unknown as Partial<ChannelInternals>;
  if (typeof internals.sendMessage !== "function")
    throw new AmqplibIncompatible("Channel#sendMessage");
  if (typeof internals.pushConfirmCallback !== "function")
    throw new AmqplibIncompatible("Channel#pushConfirmCallback");
  const connection = internals.connection;
  const socket = connection?.stream;
  if (!socket || typeof socket.write !== "function")
    throw new AmqplibIncompatible("Connection#stream");
  const buffer =
    typeof internals.ch === "number" ? connection.channels?.[internals.ch]?.buffer : undefined;
  if (!buffer || typeof buffer.read !== "function" || typeof buffer.write !== "function")
    throw new AmqplibIncompatible("the channel's write buffer (Connection#channels[ch].buffer)");
  const sendMessage = internals.sendMessage.bind(channel);
  const pushConfirmCallback = internals.pushConfirmCallback.bind(channel);
  return {
    socket,
    buffer,
    publish(queueName, body, properties, mandatory, onConfirm) {
      const fields = {
        exchange: "",
        routingKey: queueName,
        mandatory,
        immediate: false,
        ticket: undefined,
      };
      const ok = sendMessage(fields, { ...properties }, body);
      if (onConfirm) pushConfirmCallback(onConfirm);
      return ok;
    },
  };
}

const EMPTY = Buffer.alloc(0);

interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
  /** Frames written to the channel's buffer when the batch closed. */
  mark: number;
}

/**
 * Tells when the frames a channel has written so far are in the socket (handed to the kernel).
 * Usually `flushNow()` has written them at once. Otherwise (the socket is full) the sends of one
 * tick share one batch: it closes after amqplib's muxer ran (the muxer moves frames
 * on `setImmediate`), waits until the muxer has read as many frames from the channel's buffer as
 * had been written to it, and then resolves at once if the socket holds nothing unwritten, or on
 * the callback of an empty write queued behind those frames.
 */
export class WriteBarrier {
  private writes = 0;
  private reads = 0;
  private open: Batch | undefined;
  private readonly waiting: Batch[] = [];
  private failure: Error | undefined;
  private recheck: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private idleChecks = 0;
  private readsSeen = 0;
  private readonly onDrain = () => this.check();
  private readonly onClose = () =>
    this.fail(
      new ConnectionClosed(
        "the RabbitMQ publisher connection closed before the message was written",
      ),
    );

  constructor(private readonly wire: ChannelWire) {
    const { buffer, socket } = wire;
    const write = buffer.write.bind(buffer) as (...args: unknown[]) => boolean;
    const read = buffer.read.bind(buffer);
    buffer.write = ((...args: unknown[]) => {
      this.writes++;
      return write(...args);
    }) as Duplex["write"];
    buffer.read = (size?: number) => {
      const chunk: unknown = read(size);
      if (chunk !== null) this.reads++;
      return chunk;
    };
    // After the muxer's own `drain` listener (registered first), which writes the next frames.
    socket.on("drain", this.onDrain);
    socket.on("close", this.onClose);
  }

  /**
   * Moves the frames waiting in the channel's buffer to the socket now, as amqplib's muxer does on
   * its next turn (reading the same buffer in order, so frames keep their order), unless the
   * socket is full. A send then needs no turn of the event loop to reach the socket.
   * @returns true when nothing is left unwritten: the channel's buffer is empty and the socket
   *   handed every byte to the kernel
   */
  flushNow(): boolean {
    const { buffer, socket } = this.wire;
    if (this.failure || socket.destroyed) return false;
    while (!socket.writableNeedDrain) {
      const chunk: unknown = buffer.read();
      if (chunk === null) break;
      socket.write(chunk);
    }
    return (
      buffer.readableLength === 0 && buffer.writableLength === 0 && socket.writableLength === 0
    );
  }

  /**
   * @returns a promise that resolves once everything written to the channel up to the end of this
   *   tick is in the socket
   * @throws ConnectionClosed (rejects) when the socket or channel closes first
   */
  written(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.open) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const batch: Batch = { promise, resolve, reject, mark: 0 };
      this.open = batch;
      // The muxer schedules its `setImmediate` from a `readable` event emitted on a later tick:
      // this one is scheduled after it.
      process.nextTick(() => setImmediate(() => this.close(batch)));
    }
    return this.open.promise;
  }

  private close(batch: Batch): void {
    if (this.open !== batch) return;
    this.open = undefined;
    batch.mark = this.writes;
    this.waiting.push(batch);
    this.check();
  }

  private check(): void {
    if (this.recheck) return;
    const ready: Batch[] = [];
    while (this.waiting.length > 0 && this.waiting[0]!.mark <= this.reads)
      ready.push(this.waiting.shift()!);
    if (this.reads !== this.readsSeen) {
      this.readsSeen = this.reads;
      this.idleChecks = 0;
    }
    if (ready.length > 0) {
      const { socket } = this.wire;
      if (socket.writableLength === 0) {
        for (const batch of ready) batch.resolve();
      } else {
        socket.write(EMPTY, (error?: Error | null) => {
          if (!error) for (const batch of ready) batch.resolve();
          else
            for (const batch of ready)
              batch.reject(
                new ConnectionClosed(`writing to the RabbitMQ socket failed: ${error.message}`, {
                  cause: error,
                }),
              );
        });
      }
    }
    // Frames still in the channel's buffer: the socket's `drain` brings the muxer back when it
    // is full; otherwise the muxer has not run yet (look again soon, then less often).
    if (this.waiting.length > 0 && !this.wire.socket.writableNeedDrain) {
      const again = () => {
        this.recheck = undefined;
        this.check();
      };
      this.recheck = this.idleChecks++ < 3 ? setImmediate(again) : setTimeout(again, 10);
    }
  }

  /**
   * Ends the barrier: later calls reject with `error`; the waiting batches reject with it too, or
   * resolve when `delivered` (the channel closed at our request: the server answered `close-ok`
   * after reading every frame before it). Detaches from the socket.
   */
  fail(error: Error, delivered = false): void {
    if (this.failure) return;
    this.failure = error;
    this.dispose();
    for (const batch of [...this.waiting.splice(0), ...(this.open ? [this.open] : [])]) {
      if (delivered) batch.resolve();
      else batch.reject(error);
    }
    this.open = undefined;
  }

  private dispose(): void {
    if (this.recheck) {
      clearImmediate(this.recheck as NodeJS.Immediate);
      clearTimeout(this.recheck as NodeJS.Timeout);
      this.recheck = undefined;
    }
    this.wire.socket.off("drain", this.onDrain);
    this.wire.socket.off("close", this.onClose);
  }
}
