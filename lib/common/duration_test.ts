import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatDuration,
  formatDurationExact,
  formatDurationHms,
  formatHumanDuration,
  parseDuration,
  SECONDS_PER_MONTH,
  SECONDS_PER_YEAR,
} from "./duration.ts";

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;

Deno.test("parseDuration() accepts humantime text", () => {
  const cases: [string, number][] = [
    ["1h", H],
    ["2h5m10s", 2 * H + 5 * MIN + 10 * S],
    ["3h 10m 5s", 3 * H + 10 * MIN + 5 * S],
    ["2 hours 5 minutes", 2 * H + 5 * MIN],
    ["15days 2min 2s", 15 * DAY + 2 * MIN + 2 * S],
    ["500ms", 500],
    ["0s", 0],
    [" 10s ", 10 * S],
    ["1sec 2secs 3second 4seconds", 10 * S],
    ["1m 1min 1mins 1minute 2minutes", 6 * MIN],
    ["1h 1hr 1hrs 1hour 2hours", 6 * H],
    ["1d 1day 2days", 4 * DAY],
    ["1w 1week 2weeks", 28 * DAY],
    ["1M", SECONDS_PER_MONTH * S],
    ["2months", 2 * SECONDS_PER_MONTH * S],
    ["1month", SECONDS_PER_MONTH * S],
    ["1y 1year 2years", 4 * SECONDS_PER_YEAR * S],
    ["1500us", 1.5],
    ["2000000ns", 2],
    ["1s 1ns", 1000.000001],
  ];
  for (const [text, expected] of cases) assert.equal(parseDuration(text), expected, text);
});

Deno.test("parseDuration() accepts HH:MM:SS", () => {
  assert.equal(parseDuration("01:02:03"), H + 2 * MIN + 3 * S);
  assert.equal(parseDuration("00:00:00"), 0);
  assert.equal(parseDuration("100:00:01"), 100 * H + S);
  assert.throws(() => parseDuration("00:60:00"), RangeError);
  assert.throws(() => parseDuration("00:00:61"), RangeError);
});

Deno.test("parseDuration() reports errors naming the input", () => {
  const cases: [string, string, string][] = [
    ["5x", "SyntaxError", 'Cannot parse duration "5x": unknown unit "x"'],
    ["5", "SyntaxError", 'Cannot parse duration "5": missing unit after "5", e.g. "5s"'],
    ["1h 30", "SyntaxError", 'Cannot parse duration "1h 30": missing unit after "30", e.g. "30s"'],
    ["", "SyntaxError", 'Cannot parse duration "": it is empty'],
    ["h", "SyntaxError", 'Cannot parse duration "h": expected a number at "h"'],
    ["-5s", "SyntaxError", 'Cannot parse duration "-5s": expected a number at "-5s"'],
    [
      "1.5s",
      "SyntaxError",
      'Cannot parse duration "1.5s": fractions are not supported in "1.5s", use smaller units, e.g. "1s 500ms"',
    ],
    ["1S", "SyntaxError", 'Cannot parse duration "1S": unknown unit "S"'],
    ["10:00", "SyntaxError", 'Cannot parse duration "10:00": expected HH:MM:SS, e.g. "01:30:00"'],
    ["99999999999999y", "RangeError", 'Cannot parse duration "99999999999999y": it is too long'],
  ];
  for (const [text, name, message] of cases) {
    assert.throws(() => parseDuration(text), { name, message }, text);
  }
});

interface RustReference {
  /** [secs, nanos, humantime::format_duration text]. */
  durations: [number, number, string][];
}

const REFERENCE: RustReference = JSON.parse(
  await Deno.readTextFile(new URL("../cli/testdata/rust_reference.json", import.meta.url)),
);

Deno.test("formatDurationExact() matches humantime on the reference durations", () => {
  for (const [secs, nanos, expected] of REFERENCE.durations) {
    // ms as a double keeps ns only for durations below about 100 days.
    if (nanos % 1e6 !== 0 && secs > 1e6) continue;
    const ms = secs * 1000 + Math.floor(nanos / 1e6) + (nanos % 1e6) / 1e6;
    assert.equal(formatDurationExact(ms), expected, `${secs}s ${nanos}ns`);
  }
});

Deno.test("formatDurationExact() prints every non-zero unit", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [0.2, "200us"],
    [250, "250ms"],
    [1200, "1s 200ms"],
    [1400, "1s 400ms"],
    [65 * S, "1m 5s"],
    [H + 5 * MIN + 3 * S, "1h 5m 3s"],
    [H, "1h"],
    [2 * DAY + 3 * H, "2days 3h"],
    [DAY, "1day"],
    [SECONDS_PER_MONTH * S + 2 * DAY, "1month 2days"],
    [SECONDS_PER_YEAR * S + 3 * S, "1year 3s"],
    [2 * SECONDS_PER_YEAR * S, "2years"],
  ];
  for (const [ms, expected] of cases) assert.equal(formatDurationExact(ms), expected, `${ms}`);
  assert.equal(formatDuration(1200), "1s 200ms");
  assert.throws(() => formatDurationExact(-1), RangeError);
  assert.throws(() => formatDurationExact(NaN), RangeError);
});

Deno.test("formatHumanDuration() cuts to minutes, seconds or ms first (HyperQueue's unit tests)", () => {
  const cases: [number, string][] = [
    [0.123456, "0s"],
    [123_456.890123, "2m 3s"],
    [1500, "1s 500ms"],
    [1000, "1s"],
    [62_111, "1m 2s"],
    [100_000.0001, "1m 40s"],
    [11_111 * S, "3h 5m"],
    [7 * DAY + 8 * H + 9 * MIN + 11 * S, "7days 8h 9m"],
    [25.7, "25ms"],
  ];
  for (const [ms, expected] of cases) assert.equal(formatHumanDuration(ms), expected, `${ms}`);
  assert.equal(formatHumanDuration(-1), "Invalid duration");
  assert.throws(() => formatHumanDuration(Infinity), RangeError);
});

Deno.test("formatDurationHms() prints HH:MM:SS", () => {
  assert.equal(formatDurationHms(0), "00:00:00");
  assert.equal(formatDurationHms(H + 2 * MIN + 3 * S + 999), "01:02:03");
  assert.equal(formatDurationHms(100 * H), "100:00:00");
  assert.throws(() => formatDurationHms(Infinity), RangeError);
});

Deno.test("parseDuration() round-trips formatDuration() for whole seconds", () => {
  fc.assert(
    fc.property(fc.nat({ max: 10 * SECONDS_PER_YEAR }), (seconds) => {
      assert.equal(parseDuration(formatDuration(seconds * S)), seconds * S);
    }),
  );
});

Deno.test("parseDuration() round-trips formatDurationHms() for whole seconds", () => {
  fc.assert(
    fc.property(fc.nat({ max: 1_000_000_000 }), (seconds) => {
      assert.equal(parseDuration(formatDurationHms(seconds * S)), seconds * S);
    }),
  );
});
