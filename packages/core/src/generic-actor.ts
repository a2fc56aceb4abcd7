import { Actor, type ActorOptions, type MessageWithOptions } from "./actor.js";
import type { EnqueueOptions } from "./broker.js";
import { InvalidOptionError, IsolationError } from "./errors.js";
import { inIsolationThread } from "./isolation/thread-registry.js";
import type { Message } from "./message.js";

/** The `static meta` of a class-based actor: actor options, plus `abstract` for base classes. */
export interface GenericActorMeta extends ActorOptions {
  /** This class is a base, not an actor; its subclasses inherit its meta. */
  abstract?: boolean;
}

type GenericActorClass<T extends GenericActor> = {
  prototype: T;
  name: string;
  meta?: GenericActorMeta;
};
type PerformArgs<T extends GenericActor> = Parameters<T["perform"]>;
type PerformResult<T extends GenericActor> = Awaited<ReturnType<T["perform"]>>;

const declared = new WeakMap<object, Actor>();

function effectiveMeta(cls: object): GenericActorMeta {
  const chain: GenericActorMeta[] = [];
  for (
    let current: object | null = cls;
    current && current !== GenericActor;
    current = Object.getPrototypeOf(current) as object | null
  ) {
    if (Object.hasOwn(current, "meta")) chain.unshift((current as { meta: GenericActorMeta }).meta);
  }
  const merged: GenericActorMeta = Object.assign({}, ...chain) as GenericActorMeta;
  delete merged.abstract;
  return merged;
}

/**
 * The actor of a class reached through a static getter: `GenericActor` itself is no actor.
 * @throws InvalidOptionError for `GenericActor` itself or an abstract class
 */
function declaredActor(cls: unknown): Actor {
  if (cls === GenericActor)
    throw new InvalidOptionError(
      "GenericActor itself is not an actor: read actorName and queueName on a subclass",
    );
  return GenericActor.declare(cls as GenericActorClass<GenericActor>) as unknown as Actor;
}

/**
 * Class-based actors, as Dramatiq's GenericActor:
 * `class Email extends GenericActor { static meta = { queueName: "emails" }; perform(to: string) {} }`,
 * then `Email.send("a@b.c")`. The actor is declared the first time the class is used (or by
 * `GenericActor.declare(Email)`; the `dq` command declares the classes a module exports).
 * `Email.actorName`, `Email.queueName`, `Email.priority` and `Email.options` read the actor's,
 * declaring it on first read, as Dramatiq's class attributes do.
 */
export abstract class GenericActor {
  /** Actor options; `abstract: true` marks a base class. */
  static meta: GenericActorMeta = {};

  /** The work of the actor. */
  abstract perform(...args: never[]): unknown;

  /**
   * Declares a class-based actor on its broker (once) and returns its `Actor`.
   * @throws InvalidOptionError when the class is marked `abstract`
   */
  static declare<T extends GenericActor>(
    cls: GenericActorClass<T>,
  ): Actor<PerformArgs<T>, PerformResult<T>> {
    const existing = declared.get(cls);
    if (existing) return existing as unknown as Actor<PerformArgs<T>, PerformResult<T>>;
    if (Object.hasOwn(cls, "meta") && cls.meta?.abstract) {
      throw new InvalidOptionError(
        `${cls.name} is an abstract GenericActor (meta.abstract) and cannot be sent`,
      );
    }
    const instance = new (cls as unknown as new () => T)();
    const meta = effectiveMeta(cls);
    const perform = function (...args: PerformArgs<T>) {
      return (instance.perform as (...a: unknown[]) => unknown).apply(instance, args);
    };
    Object.defineProperty(perform, "name", { value: cls.name });
    // Declared lazily, from whatever code first uses the class: the call stack does not name the
    // class's module, which an isolated class-based actor must then give.
    if (meta.isolate !== undefined && meta.module === undefined && !inIsolationThread) {
      throw new IsolationError(
        `${cls.name}: a class-based actor with isolate: "thread" needs meta.module (import.meta.url), the module that exports it`,
      );
    }
    const created = new Actor(perform, { actorName: cls.name, ...meta });
    declared.set(cls, created);
    return created as unknown as Actor<PerformArgs<T>, PerformResult<T>>;
  }

  /** The actor's name, as Dramatiq's `EmailActor.actor_name` (declares the actor if needed). */
  static get actorName(): string {
    return declaredActor(this).actorName;
  }

  /** The actor's queue, as Dramatiq's `EmailActor.queue_name` (declares the actor if needed). */
  static get queueName(): string {
    return declaredActor(this).queueName;
  }

  /** The actor's priority (declares the actor if needed). */
  static get priority(): number {
    return declaredActor(this).priority;
  }

  /** The actor's options (declares the actor if needed). */
  static get options(): Readonly<Record<string, unknown>> {
    return declaredActor(this).options;
  }

  /** Whether `value` is a concrete GenericActor subclass. */
  static isActorClass(value: unknown): value is GenericActorClass<GenericActor> {
    return (
      typeof value === "function" &&
      value.prototype instanceof GenericActor &&
      !(Object.hasOwn(value, "meta") && (value as { meta?: GenericActorMeta }).meta?.abstract)
    );
  }

  /** The actor of this class. */
  static actor<T extends GenericActor>(
    this: GenericActorClass<T>,
  ): Actor<PerformArgs<T>, PerformResult<T>> {
    return GenericActor.declare(this);
  }

  static message<T extends GenericActor>(
    this: GenericActorClass<T>,
    ...args: PerformArgs<T>
  ): Message<PerformResult<T>> {
    return GenericActor.declare(this).message(...args);
  }

  static messageWithOptions<T extends GenericActor>(
    this: GenericActorClass<T>,
    options: MessageWithOptions<PerformArgs<T>>,
  ): Message<PerformResult<T>> {
    return GenericActor.declare(this).messageWithOptions(options);
  }

  static send<T extends GenericActor>(
    this: GenericActorClass<T>,
    ...args: PerformArgs<T>
  ): Promise<Message<PerformResult<T>>> {
    return GenericActor.declare(this).send(...args);
  }

  static sendWithOptions<T extends GenericActor>(
    this: GenericActorClass<T>,
    options: MessageWithOptions<PerformArgs<T>> & EnqueueOptions,
  ): Promise<Message<PerformResult<T>>> {
    return GenericActor.declare(this).sendWithOptions(options);
  }
}
