import assert from "node:assert/strict";
import {
  formatJsonDatetime,
  formatLocalTime,
  formatSubmissionDate,
  formatUtcSeconds,
  UTC,
} from "./dates.ts";

interface RustReference {
  /** [unix seconds, ms, JSON text, round_subsecs(0) Display, %F %T %Z]. */
  dates: [number, number, string, string, string][];
}

const REFERENCE: RustReference = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/rust_reference.json", import.meta.url)),
);

Deno.test("date formatters match chrono on the reference times", () => {
  for (const [secs, ms, json, rounded, formatted] of REFERENCE.dates) {
    const t = secs * 1000 + ms;
    assert.equal(formatJsonDatetime(t), json, `json ${t}`);
    assert.equal(formatSubmissionDate(t), rounded, `rounded ${t}`);
    assert.equal(formatUtcSeconds(t), formatted, `formatted ${t}`);
  }
});

Deno.test("formatJsonDatetime() uses 0, 3, 6 or 9 fraction digits", () => {
  assert.equal(formatJsonDatetime(0), "1970-01-01T00:00:00Z");
  assert.equal(formatJsonDatetime(1.5), "1970-01-01T00:00:00.001500Z");
  assert.equal(formatJsonDatetime(0.000001), "1970-01-01T00:00:00.000000001Z");
  assert.equal(formatJsonDatetime(1780417680120), "2026-06-02T16:28:00.120Z");
  assert.throws(() => formatJsonDatetime(NaN), RangeError);
});

Deno.test("formatLocalTime() applies the offset of the instant", () => {
  const t = Date.UTC(2026, 5, 2, 16, 28, 0, 999);
  assert.equal(formatLocalTime(t, UTC), "02.06.2026 16:28:00");
  assert.equal(formatLocalTime(t, () => 120), "02.06.2026 18:28:00");
  assert.equal(formatLocalTime(t, () => -1020), "01.06.2026 23:28:00");
});
