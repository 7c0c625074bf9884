/**
 * The worker's own time limit (`--time-limit`) and the retract check
 * (`--retract-check-interval`): once the limit is reached the worker ends;
 * until then, every interval, prefilled tasks whose time request no longer
 * fits the remaining lifetime go back to the server. Pure: time is passed in.
 *
 * @module
 */

/** What the lifetime asks of the worker at a given moment. */
export type LifetimeStep =
  | { kind: "none" }
  /** The time limit is reached: the worker ends. */
  | { kind: "expired" }
  /** Time to return queued tasks that do not fit in the `remainingMs` left. */
  | { kind: "retractCheck"; remainingMs: number };

/** Options of a {@link Lifetime}. */
export interface LifetimeOptions {
  /** When the worker started (worker clock). */
  startedAt: number;
  /** The worker's time limit, or null for none. */
  timeLimitMs: number | null;
  /** How often queued tasks are checked against the remaining lifetime, ms. */
  retractEveryMs: number;
}

/** Tracks the worker's time limit and when the next retract check is due. */
export class Lifetime {
  readonly #startedAt: number;
  readonly #limitMs: number | null;
  readonly #everyMs: number;
  #lastRetractCheck: number;

  /** Starts counting the retract interval at `now`. */
  constructor(options: LifetimeOptions, now: number) {
    this.#startedAt = options.startedAt;
    this.#limitMs = options.timeLimitMs;
    this.#everyMs = options.retractEveryMs;
    this.#lastRetractCheck = now;
  }

  /** What is due at `now`; a due retract check counts as done. */
  step(now: number): LifetimeStep {
    if (this.#limitMs === null) return { kind: "none" };
    if (now - this.#startedAt >= this.#limitMs) return { kind: "expired" };
    if (now - this.#lastRetractCheck < this.#everyMs) return { kind: "none" };
    this.#lastRetractCheck = now;
    return { kind: "retractCheck", remainingMs: this.#startedAt + this.#limitMs - now };
  }
}
