/**
 * Date and time texts as HyperQueue prints them. Times are ms since the
 * epoch; nothing here reads the clock, and local time takes the UTC offset
 * as a parameter ({@link UtcOffset}).
 *
 * - JSON datetimes (chrono's `DateTime<Utc>` through serde): RFC 3339 with
 *   `Z` and 0, 3, 6 or 9 fraction digits, the fewest that keep every
 *   non-zero digit: `2026-06-02T16:28:00Z`, `2026-06-02T16:28:00.120Z`.
 * - `Submission date` and `Start date`: `2026-06-02 16:28:01 UTC`.
 * - Task start and end: local `02.06.2026 18:28:01`.
 *
 * @module
 */

/** Offset of local time from UTC, in minutes east of Greenwich, at the instant `ms`. */
export type UtcOffset = (ms: number) => number;

/**
 * The UTC offset function for UTC itself (offset 0 everywhere); tests and golden files use it.
 *
 * @example Usage
 * ```ts
 * import { formatLocalTime, UTC } from "./dates.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatLocalTime(1_700_000_000_000, UTC), "14.11.2023 22:13:20");
 * ```
 */
export const UTC: UtcOffset = () => 0;

/**
 * The UTC offset of this process's time zone at each instant (what chrono's
 * `Local` uses). Reads the environment's time zone, not the clock; shells
 * pass it to the renderers.
 *
 * @example Usage
 * ```ts
 * import { formatLocalTime, systemUtcOffset } from "./dates.ts";
 * import assert from "node:assert/strict";
 * const ms = 1_700_000_000_000;
 * // The same wall-clock time as JavaScript's own local getters.
 * const d = new Date(ms);
 * const hh = String(d.getHours()).padStart(2, "0");
 * const mm = String(d.getMinutes()).padStart(2, "0");
 * assert.equal(formatLocalTime(ms, systemUtcOffset).slice(11, 16), `${hh}:${mm}`);
 * ```
 */
export function systemUtcOffset(ms: number): number {
  const offset = -new Date(ms).getTimezoneOffset();
  return offset === 0 ? 0 : offset;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function checkTime(ms: number): void {
  if (!Number.isFinite(ms)) {
    throw new RangeError(`Cannot format time ${ms}: it must be a finite number of ms`);
  }
}

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
}

function utcParts(ms: number): Parts {
  checkTime(ms);
  const whole = Math.floor(ms);
  const d = new Date(whole);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    nanos: d.getUTCMilliseconds() * 1_000_000 + Math.round((ms - whole) * 1_000_000),
  };
}

function dateText(p: Parts): string {
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

function timeText(p: Parts): string {
  return `${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/**
 * A JSON datetime as chrono serializes a `DateTime<Utc>`: RFC 3339, `Z`, and
 * the fraction with 0, 3, 6 or 9 digits.
 *
 * @example Usage
 * ```ts
 * import { formatJsonDatetime } from "./dates.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatJsonDatetime(1700000000000), "2023-11-14T22:13:20Z");
 * assert.equal(formatJsonDatetime(1700000000100), "2023-11-14T22:13:20.100Z");
 * ```
 *
 * @throws {RangeError} When `ms` is not finite.
 */
export function formatJsonDatetime(ms: number): string {
  if (Number.isInteger(ms) && ms >= 0 && ms < 253402300800000) {
    // Whole ms within years 1970-9999: the native ISO text, without a zero fraction.
    const iso = new Date(ms).toISOString();
    return ms % 1000 === 0 ? `${iso.slice(0, 19)}Z` : iso;
  }
  const p = utcParts(ms);
  let fraction = "";
  if (p.nanos !== 0) {
    if (p.nanos % 1_000_000 === 0) fraction = `.${pad(p.nanos / 1_000_000, 3)}`;
    else if (p.nanos % 1_000 === 0) fraction = `.${pad(p.nanos / 1_000, 6)}`;
    else fraction = `.${pad(p.nanos, 9)}`;
  }
  return `${dateText(p)}T${timeText(p)}${fraction}Z`;
}

/**
 * A UTC time as `YYYY-MM-DD HH:MM:SS UTC` (chrono's `%F %T %Z` on a
 * `DateTime<Utc>`, as `server info` prints `Start date`): the fraction is cut.
 *
 * @example Usage
 * ```ts
 * import { formatUtcSeconds } from "./dates.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatUtcSeconds(1_700_000_000_999), "2023-11-14 22:13:20 UTC");
 * ```
 *
 * @throws {RangeError} When `ms` is not finite.
 */
export function formatUtcSeconds(ms: number): string {
  const p = utcParts(ms);
  return `${dateText(p)} ${timeText(p)} UTC`;
}

/**
 * `job info`'s `Submission date`: the time rounded to the nearest second
 * (chrono's `round_subsecs(0)`, half up), as `YYYY-MM-DD HH:MM:SS UTC`.
 *
 * @example Usage
 * ```ts
 * import { formatSubmissionDate } from "./dates.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatSubmissionDate(1_700_000_000_499), "2023-11-14 22:13:20 UTC");
 * assert.equal(formatSubmissionDate(1_700_000_000_500), "2023-11-14 22:13:21 UTC");
 * ```
 *
 * @throws {RangeError} When `ms` is not finite.
 */
export function formatSubmissionDate(ms: number): string {
  checkTime(ms);
  return formatUtcSeconds(Math.floor(ms / 1000 + 0.5) * 1000);
}

/**
 * Local time as `%d.%m.%Y %H:%M:%S` (task info Start/End); `utcOffset` gives the offset at
 * `ms` ({@link systemUtcOffset} in the CLI, {@link UTC} in tests).
 *
 * @example Usage
 * ```ts
 * import { formatLocalTime } from "./dates.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatLocalTime(1700000000000, () => 60), "14.11.2023 23:13:20");
 * ```
 *
 * @throws {RangeError} When `ms` is not finite.
 */
export function formatLocalTime(ms: number, utcOffset: UtcOffset): string {
  const p = utcParts(Math.floor(ms / 1000) * 1000 + utcOffset(ms) * 60_000);
  return `${pad(p.day)}.${pad(p.month)}.${pad(p.year, 4)} ${timeText(p)}`;
}
