import { ConnectionClosed, ConnectionError, Consumer, Deadlines, DecodeError, Message, MessageProxy, deadLetterQueueName } from "@dq/core";
const describe = (error) => (error instanceof Error ? error.message : String(error));
/**
 * Delivers one RabbitMQ queue through a channel of its own with `basic.qos(prefetch)` and manual
 * acks. The channel is opened on the first `next()`. When the channel or its connection is lost,
 * `next()` throws `ConnectionClosed` (the worker closes this consumer and opens a new one after
 * its restart delay); the server redelivers whatever was unacked. Acks for deliveries of a channel
 * that is gone are ignored with a warning.
 */
export class RabbitmqConsumer extends Consumer {
    host;
    queueName;
    canonicalName;
    prefetch;
    timeout;
    channel;
    channelOpen = false;
    starting;
    consumerTag;
    buffer = [];
    /** Pending waits: a delivery ends most of them first, and the next one reuses the timer. */
    waiters = new Deadlines((resolve) => resolve());
    failure;
    closed = false;
    deliveries = new WeakMap();
    /** Deliveries of the live channel not yet acked or nacked, by delivery tag (ascending). */
    unsettled = new Map();
    /** Tags acked since the last flush, and the promise their `ack` calls share. */
    acksDue = new Set();
    acksFlushed;
    constructor(host, 
    /** The queue this consumer reads (`q` or `q.DQ`). */
    queueName, canonicalName, prefetch, timeout) {
        super();
        this.host = host;
        this.queueName = queueName;
        this.canonicalName = canonicalName;
        this.prefetch = prefetch;
        this.timeout = timeout;
    }
    /**
     * @returns the next delivery, or `null` after the idle timeout
     * @throws ConnectionFailed when no server could be reached
     * @throws ConnectionClosed when the channel or connection was lost
     * @throws QueueArgumentsMismatch when the queue exists with other arguments
     */
    async next() {
        if (this.closed)
            return { done: true, value: undefined };
        if (!this.channel && !this.failure) {
            this.starting ??= this.start().catch((error) => {
                this.starting = undefined;
                throw error;
            });
            await this.starting;
        }
        const deadline = Date.now() + this.timeout;
        for (;;) {
            if (this.closed)
                return { done: true, value: undefined };
            const proxy = this.buffer.shift();
            if (proxy)
                return { done: false, value: proxy };
            if (this.failure)
                throw this.failure;
            const rest = deadline - Date.now();
            if (rest <= 0)
                return { done: false, value: null };
            await this.wait(rest);
        }
    }
    /** A delivery already received, taken without waiting (see `Consumer.nextReady`). */
    nextReady() {
        return this.closed ? undefined : this.buffer.shift();
    }
    wait(ms) {
        return new Promise((resolve) => this.waiters.set(resolve, ms));
    }
    wake() {
        for (const resolve of this.waiters.take())
            resolve();
    }
    async start() {
        const { host } = this;
        const model = await host.consumerLink.get();
        await host.ensureQueue(this.canonicalName, host.consumerLink);
        let channel;
        try {
            channel = await model.createChannel();
        }
        catch (error) {
            throw new ConnectionClosed(`could not open a channel to consume ${JSON.stringify(this.queueName)}: ${describe(error)}`, { cause: error });
        }
        channel.on("error", (error) => {
            if (!this.closed)
                host.logger.warn(`RabbitMQ channel of the consumer of ${this.queueName} failed: ${error.message}`);
        });
        channel.on("close", () => {
            this.channelOpen = false;
            if (this.closed || this.channel !== channel)
                return;
            // Deliveries of a dead channel cannot be acked: the server redelivers them.
            this.buffer.length = 0;
            this.unsettled.clear();
            this.failure ??= new ConnectionClosed(`the RabbitMQ channel of the consumer of ${JSON.stringify(this.queueName)} was closed`);
            this.wake();
        });
        this.channel = channel;
        this.channelOpen = true;
        this.unsettled.clear();
        this.acksDue.clear();
        try {
            await channel.prefetch(this.prefetch);
            const reply = await channel.consume(this.queueName, (message) => this.onMessage(channel, message), { noAck: false });
            this.consumerTag = reply.consumerTag;
        }
        catch (error) {
            this.failure = undefined;
            this.channel = undefined;
            await channel.close().catch(() => undefined);
            if (ConnectionError.isInstance(error))
                throw error;
            throw new ConnectionClosed(`could not start consuming ${JSON.stringify(this.queueName)}: ${describe(error)}`, { cause: error });
        }
        if (this.closed)
            await this.closeChannel();
    }
    onMessage(channel, message) {
        if (this.channel !== channel || this.closed)
            return;
        if (!message) {
            // The server cancelled the consumer: the queue was deleted. Declare it again on restart.
            this.host.forgetQueue(this.canonicalName);
            this.failure ??= new ConnectionClosed(`RabbitMQ cancelled the consumer of ${JSON.stringify(this.queueName)} (was the queue deleted?)`);
            this.wake();
            return;
        }
        let proxy;
        try {
            proxy = new MessageProxy(Message.decode(message.content));
        }
        catch (error) {
            const decodeError = DecodeError.isInstance(error) ? error : new DecodeError(describe(error), message.content, { cause: error });
            proxy = MessageProxy.undecodable(this.queueName, message.content, decodeError);
        }
        this.deliveries.set(proxy, { channel, message });
        this.unsettled.set(message.fields.deliveryTag, message);
        this.buffer.push(proxy);
        this.wake();
    }
    /** The delivery of `proxy` when its channel is still the live one, else undefined (with a warning). */
    liveDelivery(proxy, action) {
        const delivery = this.deliveries.get(proxy);
        if (!delivery || delivery.channel !== this.channel || !this.channelOpen) {
            const tag = delivery ? ` (delivery tag ${delivery.message.fields.deliveryTag})` : "";
            this.host.logger.warn(`Ignoring the ${action} of message ${proxy.messageId}${tag} on ${this.queueName}: it was delivered on a channel that is gone; RabbitMQ redelivers it.`);
            return undefined;
        }
        return delivery;
    }
    settle(proxy, action, settle) {
        const delivery = this.liveDelivery(proxy, action);
        if (!delivery)
            return false;
        try {
            settle(delivery);
            this.deliveries.delete(proxy);
            this.unsettled.delete(delivery.message.fields.deliveryTag);
            return true;
        }
        catch (error) {
            // The channel closed under us: the server redelivers the message.
            this.host.logger.warn(`Could not ${action} message ${proxy.messageId} on ${this.queueName}: ${describe(error)}; RabbitMQ redelivers it.`);
            return false;
        }
    }
    /**
     * basic.ack. The acks of one tick go out together on `process.nextTick`: the longest run of the
     * oldest unsettled deliveries as one `basic.ack` with `multiple`, the others one by one (one
     * frame, and one socket write, instead of one per message). Resolves once they are written.
     */
    ack(proxy) {
        const delivery = this.liveDelivery(proxy, "ack");
        if (!delivery)
            return Promise.resolve();
        this.deliveries.delete(proxy);
        this.acksDue.add(delivery.message.fields.deliveryTag);
        if (!this.acksFlushed) {
            let resolve;
            const promise = new Promise((done) => (resolve = done));
            this.acksFlushed = { promise, resolve };
            process.nextTick(() => this.flushAcks());
        }
        return this.acksFlushed.promise;
    }
    flushAcks() {
        const flushed = this.acksFlushed;
        const due = this.acksDue;
        this.acksFlushed = undefined;
        this.acksDue = new Set();
        const channel = this.channel;
        try {
            // The channel closed since: the server redelivers these (and `start` cleared `unsettled`).
            if (!channel || !this.channelOpen || due.size === 0)
                return;
            // The oldest unsettled deliveries, while all are due, go as one multiple ack of the last.
            let leading;
            let inLeadingRun = true;
            for (const [tag, message] of this.unsettled) {
                if (!due.delete(tag)) {
                    inLeadingRun = false;
                    continue;
                }
                this.unsettled.delete(tag);
                if (inLeadingRun)
                    leading = message;
                else
                    channel.ack(message);
                if (due.size === 0)
                    break;
            }
            if (leading)
                channel.ack(leading, true);
        }
        catch (error) {
            // The channel closed under us: the server redelivers the messages.
            this.host.logger.warn(`Could not ack ${due.size} message(s) on ${this.queueName}: ${describe(error)}; RabbitMQ redelivers them.`);
        }
        finally {
            flushed?.resolve();
        }
    }
    /** basic.nack without requeue: RabbitMQ dead-letters the message to `q.XQ`. */
    async nack(proxy) {
        const done = this.settle(proxy, "nack", ({ channel, message }) => channel.nack(message, false, false));
        if (done && proxy.undecodable) {
            this.host.logger.warn(`Dead-lettered an undecodable delivery of ${this.queueName} to ${deadLetterQueueName(this.queueName)}: ${describe(proxy.exception)}`);
        }
    }
    /** basic.nack with requeue: the messages go back to the queue for any consumer. */
    async requeue(proxies) {
        for (const proxy of proxies) {
            const index = this.buffer.indexOf(proxy);
            if (index >= 0)
                this.buffer.splice(index, 1);
            this.settle(proxy, "requeue", ({ channel, message }) => channel.nack(message, false, true));
        }
    }
    async closeChannel() {
        const channel = this.channel;
        this.channel = undefined;
        if (!channel || !this.channelOpen)
            return;
        this.channelOpen = false;
        try {
            if (this.consumerTag)
                await channel.cancel(this.consumerTag);
        }
        catch {
            // The channel is going away anyway.
        }
        // Closing the channel returns every unacked delivery to the queue.
        await channel.close().catch(() => undefined);
    }
    /** Stops consuming and closes the channel; unacked deliveries go back to the queue. */
    async close() {
        if (this.closed)
            return;
        this.flushAcks();
        this.closed = true;
        this.buffer.length = 0;
        this.wake();
        this.waiters.cancel();
        if (this.starting)
            await this.starting.catch(() => undefined);
        await this.closeChannel();
        this.host.consumerClosed(this);
    }
}
