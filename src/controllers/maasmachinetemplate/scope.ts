// One MaasMachineTemplate reconcile's state: the template (a private copy the steps
// change), the Cluster it belongs to if it carries the cluster-name label, the logger
// and signal of this reconcile, and the patch helper that writes the status when the
// scope closes. Templates have no finalizer and nothing in MAAS to clean up, so the
// scope only ever writes status.
import type { MaasMachineTemplate, MaasMachineTemplateStatus } from "../../api/v1beta1/index.ts";
import type { Cluster } from "../../capi/index.ts";
import type { Clock } from "../../clock/index.ts";
import type { Logger } from "../../observability/index.ts";
import {
  PatchHelper,
  getCondition,
  isNotFound,
  setCondition,
  type ConditionInput,
  type EventInput,
} from "../../runtime/index.ts";
import type { ControllerDeps } from "../shared/deps.ts";

export interface TemplateScopeOptions {
  template: MaasMachineTemplate;
  cluster: Cluster | undefined;
  deps: ControllerDeps;
  log: Logger;
  signal: AbortSignal;
}

export class TemplateScope {
  readonly template: MaasMachineTemplate;
  readonly cluster: Cluster | undefined;
  readonly deps: ControllerDeps;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** Set by reconcileCapacity when this pass sets or clears status.lastRefreshTime. */
  refreshRecorded = false;
  private readonly patchHelper: PatchHelper<MaasMachineTemplate>;

  constructor(options: TemplateScopeOptions) {
    if (options.template.metadata.name === "") throw new Error("TemplateScope needs a named MaasMachineTemplate");
    // The cache's objects are frozen and shared: every change goes to this copy.
    this.template = structuredClone(options.template);
    this.cluster = options.cluster;
    this.deps = options.deps;
    this.log = options.log;
    this.signal = options.signal;
    this.patchHelper = new PatchHelper({ object: options.template, client: options.deps.client });
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  get key(): string {
    return `${this.template.metadata.namespace ?? ""}/${this.template.metadata.name}`;
  }

  get status(): MaasMachineTemplateStatus {
    this.template.status ??= {};
    return this.template.status;
  }

  setCondition(input: Omit<ConditionInput, "observedGeneration">): void {
    const generation = this.template.metadata.generation;
    this.status.conditions = setCondition(
      this.status.conditions,
      { ...input, ...(generation === undefined ? {} : { observedGeneration: generation }) },
      this.clock,
    );
  }

  condition(type: string): ConditionInput | undefined {
    return getCondition(this.template.status?.conditions, type);
  }

  event(input: EventInput): void {
    this.deps.events.event(this.template, input);
  }

  /** Writes the status if it changed (nothing else of a template is ours to write). */
  async close(): Promise<void> {
    try {
      await this.patchHelper.patch(this.template);
    } catch (err) {
      // Deleted while we asked MAAS: with no finalizer it is gone, and its status with it.
      if (isNotFound(err)) return;
      throw err;
    }
  }
}
