// Helpers for metav1.Condition lists, with apimachinery's meta.SetStatusCondition
// rules: lastTransitionTime records when the status last changed, not when the
// condition was last written, so a reconcile that re-asserts a condition does not
// churn it. Every helper returns new objects and leaves its input alone.
import { NotYetReportedReason, ReadyReason, type Condition } from "../api/v1beta1/index.ts";
import { systemClock, type Clock } from "../clock/index.ts";

// One Condition type for the whole project: the API schema's (metav1.Condition).
export type { Condition };

export type ConditionInput = Omit<Condition, "lastTransitionTime"> & { lastTransitionTime?: string };

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === "True";
}

/**
 * Adds or updates the condition of `input.type` and returns a new list. The
 * transition time moves only when the status changes (to `input.lastTransitionTime`
 * when given, else now); reason, message and observedGeneration always take the
 * input's values. An existing condition keeps its place in the list.
 */
export function setCondition(
  conditions: Condition[] | undefined,
  input: ConditionInput,
  clock: Clock = systemClock,
): Condition[] {
  const list = conditions ?? [];
  const index = list.findIndex((c) => c.type === input.type);
  const existing = index === -1 ? undefined : list[index];
  const lastTransitionTime =
    existing !== undefined && existing.status === input.status
      ? existing.lastTransitionTime
      : (input.lastTransitionTime ?? formatTime(clock.now()));
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    ...(input.message === undefined ? {} : { message: input.message }),
    lastTransitionTime,
    ...(input.observedGeneration === undefined ? {} : { observedGeneration: input.observedGeneration }),
  };
  if (index === -1) return [...list, next];
  return list.map((c, i) => (i === index ? next : c));
}

/** Returns a new list without the condition of `type`. */
export function removeCondition(conditions: Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/**
 * The Ready condition summarising `opts.types`, as Cluster API summarises: True when
 * every listed condition is True; otherwise False when any is False, else Unknown,
 * taking reason and message from the first listed condition with that status. A
 * listed condition that is missing counts as Unknown. The transition time of an
 * existing Ready is kept when the summary's status matches it, so the result can
 * be passed straight to {@link setCondition}.
 */
export function summarizeReady(
  conditions: readonly Condition[] | undefined,
  opts: { types: string[]; observedGeneration?: number },
  clock: Clock = systemClock,
): Condition {
  const listed = opts.types.map(
    (type): ConditionInput =>
      getCondition(conditions, type) ?? {
        type,
        status: "Unknown",
        reason: NotYetReportedReason,
        message: `Condition ${type} not yet reported`,
      },
  );
  const status = listed.some((c) => c.status === "False")
    ? "False"
    : listed.some((c) => c.status === "Unknown")
      ? "Unknown"
      : "True";
  const cause = status === "True" ? undefined : listed.find((c) => c.status === status);
  const previous = getCondition(conditions, "Ready");
  return {
    type: "Ready",
    status,
    reason: cause?.reason ?? ReadyReason,
    ...(cause?.message === undefined ? {} : { message: cause.message }),
    lastTransitionTime:
      previous !== undefined && previous.status === status ? previous.lastTransitionTime : formatTime(clock.now()),
    ...(opts.observedGeneration === undefined ? {} : { observedGeneration: opts.observedGeneration }),
  };
}

/** RFC 3339 in UTC at whole seconds, the form metav1.Time serialises to. */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}
