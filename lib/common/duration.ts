/**
 * Durations as HyperQueue reads and prints them: humantime text (`1h 5m`,
 * `15days 2min 2s`) or `HH:MM:SS`, converted to milliseconds; printed either
 * exactly ({@link formatDurationExact}, humantime) or cut to a readable
 * precision ({@link formatHumanDuration}, HyperQueue's `human_duration`).
 *
 * @module
 */
import { quote } from "./quote.ts";

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/** Seconds in a humantime month (30.44 days). */
export const SECONDS_PER_MONTH = 2_630_016;
/** Seconds in a humantime year (365.25 days). */
export const SECONDS_PER_YEAR = 31_557_600;

const UNIT_NANOS: ReadonlyMap<string, bigint> = new Map<string, bigint>([
  ...["ns", "nsec", "nanos"].map((u) => [u, 1n] as const),
  ...["us", "usec", "micros"].map((u) => [u, 1_000n] as const),
  ...["ms", "msec", "millis"].map((u) => [u, NS_PER_MS] as const),
  ...["s", "sec", "secs", "second", "seconds"].map((u) => [u, NS_PER_S] as const),
  ...["m", "min", "mins", "minute", "minutes"].map((u) => [u, 60n * NS_PER_S] as const),
  ...["h", "hr", "hrs", "hour", "hours"].map((u) => [u, 3_600n * NS_PER_S] as const),
  ...["d", "day", "days"].map((u) => [u, 86_400n * NS_PER_S] as const),
  ...["w", "week", "weeks"].map((u) => [u, 604_800n * NS_PER_S] as const),
  ...["M", "month", "months"].map((u) => [u, BigInt(SECONDS_PER_MONTH) * NS_PER_S] as const),
  ...["y", "year", "years"].map((u) => [u, BigInt(SECONDS_PER_YEAR) * NS_PER_S] as const),
]);

const HMS_REGEXP = /^([0-9]+):([0-9]{1,2}):([0-9]{1,2})$/;
const TOKEN_REGEXP = /([0-9]+)(\.[0-9]*)?\s*([A-Za-z]*)/y;
const MAX_MS = BigInt(Number.MAX_SAFE_INTEGER);

function nanosToMs(input: string, nanos: bigint): number {
  const whole = nanos / NS_PER_MS;
  if (whole > MAX_MS) {
    throw new RangeError(`Cannot parse duration ${quote(input)}: it is too long`);
  }
  return Number(whole) + Number(nanos % NS_PER_MS) / 1e6;
}

function parseHms(input: string, match: RegExpExecArray): number {
  const hours = BigInt(match[1]!);
  const minutes = Number(match[2]!);
  const seconds = Number(match[3]!);
  if (minutes >= 60 || seconds >= 60) {
    throw new RangeError(
      `Cannot parse duration ${quote(input)}: minutes and seconds must be below 60 in HH:MM:SS`,
    );
  }
  const totalSeconds = hours * 3_600n + BigInt(minutes * 60 + seconds);
  return nanosToMs(input, totalSeconds * NS_PER_S);
}

/**
 * Parses a duration into milliseconds. Accepts humantime text made of
 * `<integer><unit>` terms, with optional spaces (`2h5m10s`, `3h 10m 5s`,
 * `2 hours 5 minutes`), or `HH:MM:SS` with any number of hour digits.
 * Units: ns, us, ms, s/sec/secs/second(s), m/min/mins/minute(s),
 * h/hr/hrs/hour(s), d/day(s), w/week(s), M/month(s) (30.44 days),
 * y/year(s) (365.25 days). The result is fractional only for ns/us terms.
 *
 * @example Usage
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseDuration("1h 5m"), 3_900_000);
 * assert.equal(parseDuration("01:30:00"), 5_400_000);
 * assert.equal(parseDuration("1500us"), 1.5);
 * assert.throws(() => parseDuration("1.5h"), SyntaxError);
 * ```
 *
 * @throws {SyntaxError} When the text is empty, has a fraction, lacks a unit or uses an unknown unit.
 * @throws {RangeError} When the value exceeds `Number.MAX_SAFE_INTEGER` ms, or HH:MM:SS has MM or SS >= 60.
 */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === "") {
    throw new SyntaxError(`Cannot parse duration ${quote(text)}: it is empty`);
  }
  const hms = HMS_REGEXP.exec(input);
  if (hms !== null) return parseHms(text, hms);
  if (input.includes(":")) {
    throw new SyntaxError(
      `Cannot parse duration ${quote(text)}: expected HH:MM:SS, e.g. "01:30:00"`,
    );
  }

  let total = 0n;
  let pos = 0;
  while (pos < input.length) {
    TOKEN_REGEXP.lastIndex = pos;
    const match = TOKEN_REGEXP.exec(input);
    if (match === null) {
      const rest = input.slice(pos);
      throw new SyntaxError(
        `Cannot parse duration ${quote(text)}: expected a number at ${quote(rest)}`,
      );
    }
    const [whole, digits, fraction, unit] = match as unknown as [string, string, string?, string?];
    if (fraction !== undefined) {
      throw new SyntaxError(
        `Cannot parse duration ${quote(text)}: fractions are not supported in ${
          quote(whole.trim())
        }, use smaller units, e.g. "1s 500ms"`,
      );
    }
    if (unit === undefined || unit === "") {
      throw new SyntaxError(
        `Cannot parse duration ${quote(text)}: missing unit after ${
          quote(digits)
        }, e.g. "${digits}s"`,
      );
    }
    const nanos = UNIT_NANOS.get(unit);
    if (nanos === undefined) {
      throw new SyntaxError(`Cannot parse duration ${quote(text)}: unknown unit ${quote(unit)}`);
    }
    total += BigInt(digits) * nanos;
    pos += whole.length;
    while (pos < input.length && /\s/.test(input[pos]!)) pos++;
  }
  return nanosToMs(text, total);
}

/**
 * Parses a duration as {@link parseDuration} does, into whole milliseconds: a fraction (from
 * `ns`/`us` terms) is rounded up, so a positive duration never becomes 0. For everything
 * that travels as an integer number of ms (time limits, time requests, heartbeats).
 *
 * @example Usage
 * ```ts
 * import { parseDurationMs } from "./duration.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseDurationMs("1500us"), 2);
 * assert.equal(parseDurationMs("1us"), 1);
 * assert.equal(parseDurationMs("1h"), 3_600_000);
 * ```
 *
 * @throws {SyntaxError} As {@link parseDuration}.
 * @throws {RangeError} As {@link parseDuration}.
 */
export function parseDurationMs(text: string): number {
  return Math.ceil(parseDuration(text));
}

function checkMs(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`Cannot format ${what} ${ms}: it must be a finite number >= 0`);
  }
}

/**
 * Formats milliseconds exactly as humantime's `format_duration` prints a
 * `std::time::Duration` (HyperQueue's heartbeat, time limits, the job wait
 * line): the non-zero parts among years (365.25 days), months (30.44 days),
 * days, `h`, `m`, `s`, `ms`, `us` and `ns`, separated by spaces; `0s` for
 * zero. Year, month and day take a plural `s` above 1 (`1day`, `7days`).
 * Fractions of a ms are kept to the ns.
 *
 * @example Usage
 * ```ts
 * import { formatDurationExact } from "./duration.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatDurationExact(1200), "1s 200ms");
 * assert.equal(formatDurationExact(8 * 86_400_000), "8days");
 * ```
 *
 * @throws {RangeError} When `ms` is negative or not finite.
 */
export function formatDurationExact(ms: number): string {
  checkMs(ms, "duration");
  let secs = Math.floor(ms / 1000);
  let nanos = Math.round((ms - secs * 1000) * 1_000_000);
  if (nanos >= 1_000_000_000) {
    secs += 1;
    nanos -= 1_000_000_000;
  }
  if (secs === 0 && nanos === 0) return "0s";
  const parts: string[] = [];
  const push = (value: number, unit: string, plural: boolean): void => {
    if (value > 0) parts.push(`${value}${unit}${plural && value > 1 ? "s" : ""}`);
  };
  const years = Math.floor(secs / SECONDS_PER_YEAR);
  let rest = secs - years * SECONDS_PER_YEAR;
  const months = Math.floor(rest / SECONDS_PER_MONTH);
  rest -= months * SECONDS_PER_MONTH;
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  push(years, "year", true);
  push(months, "month", true);
  push(days, "day", true);
  push(Math.floor(rest / 3_600), "h", false);
  push(Math.floor((rest % 3_600) / 60), "m", false);
  push(rest % 60, "s", false);
  push(Math.floor(nanos / 1_000_000), "ms", false);
  push(Math.floor(nanos / 1_000) % 1_000, "us", false);
  push(nanos % 1_000, "ns", false);
  return parts.join(" ");
}

/**
 * Same as {@link formatDurationExact} (humantime's `format_duration`); the name the rest of
 * the CLI uses.
 *
 * @example Usage
 * ```ts
 * import { formatDuration, parseDuration } from "./duration.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatDuration(parseDuration("90m")), "1h 30m");
 * ```
 *
 * @throws {RangeError} When `ms` is negative or not finite.
 */
export function formatDuration(ms: number): string {
  return formatDurationExact(ms);
}

/**
 * HyperQueue's `human_duration` (makespans, explain times): the duration is
 * first cut to whole minutes when it has hours, to whole seconds when it has
 * minutes, and to whole ms otherwise, then printed by
 * {@link formatDurationExact}. A negative duration prints `Invalid duration`.
 *
 * @example Usage
 * ```ts
 * import { formatHumanDuration } from "./duration.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatHumanDuration(123_456.890123), "2m 3s");
 * assert.equal(formatHumanDuration(1500), "1s 500ms");
 * ```
 *
 * @throws {RangeError} When `ms` is not finite.
 */
export function formatHumanDuration(ms: number): string {
  if (Number.isNaN(ms) || !Number.isFinite(ms)) {
    throw new RangeError(`Cannot format duration ${ms}: it must be a finite number`);
  }
  if (ms < 0) return "Invalid duration";
  const unit = ms >= 3_600_000 ? 60_000 : ms >= 60_000 ? 1000 : 1;
  return formatDurationExact(Math.floor(ms / unit) * unit);
}

/**
 * Formats milliseconds as `HH:MM:SS` (hours take as many digits as needed,
 * at least two), rounding down to whole seconds, e.g. for SLURM `--time`.
 *
 * @example Usage
 * ```ts
 * import { formatDurationHms } from "./duration.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatDurationHms(5_400_999), "01:30:00");
 * assert.equal(formatDurationHms(360_000_000), "100:00:00");
 * ```
 *
 * @throws {RangeError} When `ms` is negative or not finite.
 */
export function formatDurationHms(ms: number): string {
  checkMs(ms, "duration");
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
}
