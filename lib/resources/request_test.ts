import assert from "node:assert/strict";
import fc from "fast-check";
import { type Amount, formatAmount, parseAmount } from "./amount.ts";
import {
  formatPolicy,
  formatRequestAmount,
  isValidResourceName,
  parseRequestAmount,
  requestedAmount,
  type ResourceEntry,
  ResourceSpecSyntaxError,
} from "./request.ts";

Deno.test("parseRequestAmount() reads amounts and policies", () => {
  const cases: [string, Amount, ResourceEntry["policy"]][] = [
    ["1", 10000, "compact"],
    ["2.5", 25000, "compact"],
    ["0.0001", 1, "compact"],
    [" 4 compact! ", 40000, "forceCompact"],
    ["4 tight", 40000, "tight"],
    ["4 tight!", 40000, "forceTight"],
    ["3 scatter", 30000, "scatter"],
    ["1.25 compact", 12500, "compact"],
    ["all", 0, "all"],
  ];
  for (const [text, amount, policy] of cases) {
    assert.deepEqual(parseRequestAmount("cpus", text), { resource: "cpus", amount, policy }, text);
  }
});

Deno.test("parseRequestAmount() rejects bad text with the input in the message", () => {
  const cases: [string, ErrorConstructor | typeof ResourceSpecSyntaxError, string][] = [
    [
      "",
      ResourceSpecSyntaxError,
      `Cannot parse resource request "cpus=": expected "<amount> [policy]" or "all"`,
    ],
    [
      "x",
      ResourceSpecSyntaxError,
      `Cannot parse resource request "cpus=x": amount "x" is not a number`,
    ],
    [
      "1.00001",
      ResourceSpecSyntaxError,
      `Cannot parse resource request "cpus=1.00001": amount "1.00001" is not a number`,
    ],
    [
      "-1",
      ResourceSpecSyntaxError,
      `Cannot parse resource request "cpus=-1": amount "-1" is not a number`,
    ],
    [
      "2 fast",
      ResourceSpecSyntaxError,
      `Cannot parse resource request "cpus=2 fast": unknown policy "fast" (use compact, compact!, tight, tight!, scatter)`,
    ],
    [
      "2 constructor",
      ResourceSpecSyntaxError,
      `Cannot parse resource request "cpus=2 constructor": unknown policy "constructor" (use compact, compact!, tight, tight!, scatter)`,
    ],
    [
      "2 compact x",
      ResourceSpecSyntaxError,
      `Cannot parse resource request "cpus=2 compact x": expected "<amount> [policy]" or "all"`,
    ],
    [
      "all compact",
      ResourceSpecSyntaxError,
      `Cannot parse resource request "cpus=all compact": "all" takes no policy`,
    ],
    ["0", RangeError, `Cannot use resource request "cpus=0": amount must be positive`],
    ["0.0000", RangeError, `Cannot use resource request "cpus=0.0000": amount must be positive`],
  ];
  for (const [text, cls, message] of cases) {
    assert.throws(() => parseRequestAmount("cpus", text), (e: unknown) => {
      assert.ok(e instanceof cls, `${text}: ${e}`);
      assert.equal((e as Error).message, message);
      return true;
    });
  }
});

Deno.test("ResourceSpecSyntaxError carries the input and is a SyntaxError", () => {
  assert.throws(() => parseRequestAmount("gpus", "x y z"), (err: unknown) => {
    assert.ok(err instanceof SyntaxError);
    assert.ok(err instanceof ResourceSpecSyntaxError);
    assert.equal(err.input, "x y z");
    assert.equal(err.name, "ResourceSpecSyntaxError");
    return true;
  });
});

Deno.test("isValidResourceName() accepts letters, digits and / after a letter", () => {
  for (const name of ["cpus", "gpus/nvidia", "Mem2", "a", "x/y/z9"]) {
    assert.equal(isValidResourceName(name), true, name);
  }
  for (const name of ["", "1gpu", "/gpus", "gpu-s", "gpu_s", "gpü", "gpus ", "a=b"]) {
    assert.equal(isValidResourceName(name), false, name);
  }
});

Deno.test("formatRequestAmount() prints amount and policy as HyperQueue does", () => {
  assert.equal(
    formatRequestAmount({ resource: "c", amount: 40000, policy: "compact" }),
    "4 compact",
  );
  assert.equal(
    formatRequestAmount({ resource: "c", amount: 25000, policy: "forceTight" }),
    "2.5 tight!",
  );
  assert.equal(
    formatRequestAmount({ resource: "c", amount: 1, policy: "scatter" }),
    "0.0001 scatter",
  );
  assert.equal(formatRequestAmount({ resource: "c", amount: 0, policy: "all" }), "all");
  assert.equal(formatPolicy("forceCompact"), "compact!");
});

Deno.test("requestedAmount() finds the entry or gives 0", () => {
  const req = {
    entries: [{ resource: "gpus", amount: 5000, policy: "compact" as const }],
    minTimeMs: 0,
  };
  assert.equal(requestedAmount(req, "gpus"), 5000);
  assert.equal(requestedAmount(req, "cpus"), 0);
});

Deno.test("parseAmount() and formatAmount() round trip (property)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (amount) => {
      assert.equal(parseAmount(formatAmount(amount)), amount);
    }),
  );
});

Deno.test("parseRequestAmount() and formatRequestAmount() round trip (property)", () => {
  const policy = fc.constantFrom(
    "compact" as const,
    "forceCompact" as const,
    "tight" as const,
    "forceTight" as const,
    "scatter" as const,
  );
  const entry = fc.oneof(
    fc.record({
      resource: fc.constant("gpus"),
      amount: fc.integer({ min: 1, max: 10 ** 12 }),
      policy,
    }),
    fc.record({
      resource: fc.constant("gpus"),
      amount: fc.constant(0),
      policy: fc.constant("all" as const),
    }),
  );
  fc.assert(
    fc.property(entry, (e) => {
      const plain = { ...e };
      assert.deepEqual(parseRequestAmount("gpus", formatRequestAmount(plain)), plain);
    }),
  );
});
