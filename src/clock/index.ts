// Time as a dependency. The controller runtime, the MAAS client's retries and the
// simulator's lifecycle all take a Clock, so backoff, timeouts, lease expiry and
// deployment delays are tested by advancing a FakeClock instead of sleeping.
export type { Clock, TimerHandle } from "./clock.ts";
export { systemClock } from "./clock.ts";
export { FakeClock } from "./fake-clock.ts";
