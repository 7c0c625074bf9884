import assert from "node:assert/strict";
import { Lifetime } from "./lifetime.ts";

Deno.test("Lifetime without a time limit never ends and never checks", () => {
  const life = new Lifetime({ startedAt: 0, timeLimitMs: null, retractEveryMs: 10 }, 0);
  for (const now of [0, 10, 1e9]) assert.deepEqual(life.step(now), { kind: "none" });
});

Deno.test("Lifetime checks queued tasks every interval with the time left", () => {
  const life = new Lifetime({ startedAt: 1000, timeLimitMs: 60_000, retractEveryMs: 10_000 }, 1005);
  assert.deepEqual(life.step(11_004), { kind: "none" });
  assert.deepEqual(life.step(11_005), { kind: "retractCheck", remainingMs: 49_995 });
  assert.deepEqual(life.step(11_006), { kind: "none" }, "a check counts as done");
  assert.deepEqual(life.step(21_004), { kind: "none" });
  assert.deepEqual(life.step(25_000), { kind: "retractCheck", remainingMs: 36_000 });
});

Deno.test("Lifetime ends the worker at its time limit, before any check", () => {
  const life = new Lifetime({ startedAt: 0, timeLimitMs: 5000, retractEveryMs: 1000 }, 0);
  assert.deepEqual(life.step(4999), { kind: "retractCheck", remainingMs: 1 });
  assert.deepEqual(life.step(5000), { kind: "expired" });
  assert.deepEqual(life.step(9000), { kind: "expired" });
});
