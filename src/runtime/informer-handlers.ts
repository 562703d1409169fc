import type { Logger } from "../observability/index.ts";
import type { KubeObject } from "./kube-object.ts";

/**
 * What an informer tells its handlers. An `update` with `resync: true` is the
 * periodic replay of an unchanged object (old and new are the same object, same
 * resourceVersion), not a change; `delete` with `finalStateUnknown` comes from a
 * relist that no longer held the object, so `object` is the last state we cached.
 */
export type InformerEvent<T extends KubeObject> =
  | { type: "add"; object: T }
  | { type: "update"; object: T; oldObject: T; resync: boolean }
  | { type: "delete"; object: T; finalStateUnknown: boolean };

export type InformerEventHandler<T extends KubeObject> = (event: InformerEvent<T>) => void;

/** The handler list of one informer; a throwing handler is logged, not fatal. */
export class InformerHandlers<T extends KubeObject> {
  private handlers: Array<InformerEventHandler<T>> = [];

  constructor(private readonly logger: Logger) {}

  /** Adds `handler`, replays `existing` to it as adds, and returns its remover. */
  add(handler: InformerEventHandler<T>, existing: readonly T[]): () => void {
    this.handlers.push(handler);
    for (const object of existing) this.call(handler, { type: "add", object });
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handler);
    };
  }

  emit(event: InformerEvent<T>): void {
    for (const handler of this.handlers) this.call(handler, event);
  }

  private call(handler: InformerEventHandler<T>, event: InformerEvent<T>): void {
    try {
      handler(event);
    } catch (err) {
      this.logger.error({ err, event: event.type }, "informer event handler threw");
    }
  }
}
