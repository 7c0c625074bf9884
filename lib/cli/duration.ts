/**
 * Durations as HyperQueue reads and prints them: humantime text (`1h 5m`,
 * `15days 2min 2s`) or `HH:MM:SS`, converted to milliseconds.
 *
 * @module
 */

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
    throw new RangeError(`Cannot parse duration "${input}": it is too long`);
  }
  return Number(whole) + Number(nanos % NS_PER_MS) / 1e6;
}

function parseHms(input: string, match: RegExpExecArray): number {
  const hours = BigInt(match[1]!);
  const minutes = Number(match[2]!);
  const seconds = Number(match[3]!);
  if (minutes >= 60 || seconds >= 60) {
    throw new RangeError(
      `Cannot parse duration "${input}": minutes and seconds must be below 60 in HH:MM:SS`,
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
 * @throws {SyntaxError} When the text is empty, has a fraction, lacks a unit or uses an unknown unit.
 * @throws {RangeError} When the value exceeds `Number.MAX_SAFE_INTEGER` ms, or HH:MM:SS has MM or SS >= 60.
 */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === "") {
    throw new SyntaxError(`Cannot parse duration "${text}": it is empty`);
  }
  const hms = HMS_REGEXP.exec(input);
  if (hms !== null) return parseHms(text, hms);
  if (input.includes(":")) {
    throw new SyntaxError(`Cannot parse duration "${text}": expected HH:MM:SS, e.g. "01:30:00"`);
  }

  let total = 0n;
  let pos = 0;
  while (pos < input.length) {
    TOKEN_REGEXP.lastIndex = pos;
    const match = TOKEN_REGEXP.exec(input);
    if (match === null) {
      const rest = input.slice(pos);
      throw new SyntaxError(
        `Cannot parse duration "${text}": expected a number at "${rest}"`,
      );
    }
    const [whole, digits, fraction, unit] = match as unknown as [string, string, string?, string?];
    if (fraction !== undefined) {
      throw new SyntaxError(
        `Cannot parse duration "${text}": fractions are not supported in "${whole.trim()}", use smaller units, e.g. "1s 500ms"`,
      );
    }
    if (unit === undefined || unit === "") {
      throw new SyntaxError(
        `Cannot parse duration "${text}": missing unit after "${digits}", e.g. "${digits}s"`,
      );
    }
    const nanos = UNIT_NANOS.get(unit);
    if (nanos === undefined) {
      throw new SyntaxError(`Cannot parse duration "${text}": unknown unit "${unit}"`);
    }
    total += BigInt(digits) * nanos;
    pos += whole.length;
    while (pos < input.length && /\s/.test(input[pos]!)) pos++;
  }
  return nanosToMs(text, total);
}

function checkMs(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`Cannot format ${what} ${ms}: it must be a finite number >= 0`);
  }
}

/**
 * Formats milliseconds the way HyperQueue prints durations (humantime style):
 * `0s`, `250ms` (only below one second), `1m 5s`, `1h 5m 3s`,
 * `2days 3h`, `1month 2days`, `1year 3s`. At or above one second the value is
 * rounded to whole seconds.
 *
 * @throws {RangeError} When `ms` is negative or not finite.
 */
export function formatDuration(ms: number): string {
  checkMs(ms, "duration");
  const roundedMs = Math.round(ms);
  if (roundedMs < 1000) return roundedMs === 0 ? "0s" : `${roundedMs}ms`;
  let seconds = Math.round(ms / 1000);
  const parts: string[] = [];
  const push = (value: number, single: string, plural: string): void => {
    if (value > 0) parts.push(`${value}${value === 1 ? single : plural}`);
  };
  const years = Math.floor(seconds / SECONDS_PER_YEAR);
  seconds -= years * SECONDS_PER_YEAR;
  const months = Math.floor(seconds / SECONDS_PER_MONTH);
  seconds -= months * SECONDS_PER_MONTH;
  const days = Math.floor(seconds / 86_400);
  seconds -= days * 86_400;
  const hours = Math.floor(seconds / 3_600);
  seconds -= hours * 3_600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  push(years, "year", "years");
  push(months, "month", "months");
  push(days, "day", "days");
  push(hours, "h", "h");
  push(minutes, "m", "m");
  push(seconds, "s", "s");
  return parts.join(" ");
}

/**
 * Formats milliseconds as `HH:MM:SS` (hours take as many digits as needed,
 * at least two), rounding down to whole seconds, e.g. for SLURM `--time`.
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
