import assert from "node:assert/strict";
import fc from "fast-check";
import { type ResourceEntry, type ResourceRequest, ResourceSpecSyntaxError } from "./request.ts";
import {
  buildRequestVariants,
  formatRequest,
  formatRequestVariants,
  formatResourceFlag,
  MAX_VARIANTS,
  type RequestVariantsOptions,
} from "./variants.ts";

function opts(resources: string[], cpus?: string): RequestVariantsOptions {
  return cpus === undefined
    ? { resources, timeRequestMs: 0 }
    : { cpus, resources, timeRequestMs: 0 };
}

Deno.test("buildRequestVariants() builds variants (formatted)", () => {
  const cases: [RequestVariantsOptions, string][] = [
    [opts([]), "cpus: 1 compact"],
    [opts([], "4"), "cpus: 4 compact"],
    [opts([], "all"), "cpus: all"],
    [opts([], " 4  tight! "), "cpus: 4 tight!"],
    [opts(["gpus=2"]), "cpus: 1 compact, gpus: 2 compact"],
    [opts(["gpus=2"], "0.5 scatter"), "cpus: 0.5 scatter, gpus: 2 compact"],
    [opts(["gpus=all"]), "cpus: 1 compact, gpus: all"],
    [opts(["cpus=2.5 gpus=2"]), "cpus: 2.5 compact, gpus: 2 compact"],
    [opts(["gpus=2 scatter cpus=3 compact!"]), "cpus: 3 compact!, gpus: 2 scatter"],
    [
      opts(["gpus/nvidia=1", "mem=100"]),
      "cpus: 1 compact, gpus/nvidia: 1 compact, mem: 100 compact",
    ],
    [
      opts(["cpus=2.5 gpus=2 | cpus=32"]),
      "cpus: 2.5 compact, gpus: 2 compact | cpus: 32 compact",
    ],
    [
      opts(["gpus=1 | gpus=2 tight", "mem=10"], "4"),
      "cpus: 4 compact, gpus: 1 compact, mem: 10 compact | cpus: 4 compact, gpus: 2 tight, mem: 10 compact",
    ],
    // a variant naming a resource overrides the other flags' entry for it
    [
      opts(["mem=1 | mem=2", "mem=10 gpus=1"]),
      "cpus: 1 compact, gpus: 1 compact, mem: 1 compact | cpus: 1 compact, gpus: 1 compact, mem: 2 compact",
    ],
    [opts(["cpus=1|cpus=2"]), "cpus: 1 compact | cpus: 2 compact"],
    [opts(["zeta=1 alpha=2 cpus=1"]), "alpha: 2 compact, cpus: 1 compact, zeta: 1 compact"],
  ];
  for (const [options, expected] of cases) {
    assert.equal(
      formatRequestVariants(buildRequestVariants(options)),
      expected,
      JSON.stringify(options),
    );
  }
});

Deno.test("buildRequestVariants() gives entries sorted, fixed point, with the time request", () => {
  const reqs = buildRequestVariants({
    resources: ["gpus=0.5 | cpus=32 all=1"],
    timeRequestMs: 5000,
  });
  assert.deepEqual(reqs, [
    {
      entries: [
        { resource: "cpus", amount: 10000, policy: "compact" },
        { resource: "gpus", amount: 5000, policy: "compact" },
      ],
      minTimeMs: 5000,
    },
    {
      entries: [
        { resource: "all", amount: 10000, policy: "compact" },
        { resource: "cpus", amount: 320000, policy: "compact" },
      ],
      minTimeMs: 5000,
    },
  ]);
});

Deno.test("buildRequestVariants() accepts up to 32 variants", () => {
  const text = Array.from({ length: MAX_VARIANTS }, (_, i) => `cpus=${i + 1}`).join(" | ");
  assert.equal(buildRequestVariants(opts([text])).length, 32);
});

Deno.test("buildRequestVariants() rejects bad input with one-line messages", () => {
  const thirtyThree = Array.from({ length: 33 }, () => "cpus=1").join("|");
  const S = ResourceSpecSyntaxError;
  const cases: [RequestVariantsOptions, ErrorConstructor | typeof S, string][] = [
    [opts([], "x"), S, `Cannot parse --cpus "x": amount "x" is not a number`],
    [opts([], "0"), RangeError, `Cannot use --cpus "0": amount must be positive`],
    [
      opts([], "2 fast"),
      S,
      `Cannot parse --cpus "2 fast": unknown policy "fast" (use compact, compact!, tight, tight!, scatter)`,
    ],
    [
      opts([""]),
      S,
      `Cannot parse --resource "": empty request (expected "name=<amount> [policy]")`,
    ],
    [
      opts(["gpus"]),
      S,
      `Cannot parse --resource "gpus": expected "name=<amount> [policy]" but found "gpus"`,
    ],
    [
      opts(["compact gpus=1"]),
      S,
      `Cannot parse --resource "compact gpus=1": expected "name=<amount> [policy]" but found "compact"`,
    ],
    [opts(["gpus="]), S, `Cannot parse --resource "gpus=": missing amount for "gpus"`],
    [
      opts(["=1"]),
      S,
      `Cannot parse --resource "=1": invalid resource name "" (use an ASCII letter, then letters, digits or "/")`,
    ],
    [
      opts(["1gpu=1"]),
      S,
      `Cannot parse --resource "1gpu=1": invalid resource name "1gpu" (use an ASCII letter, then letters, digits or "/")`,
    ],
    [
      opts(["gpu_s=1"]),
      S,
      `Cannot parse --resource "gpu_s=1": invalid resource name "gpu_s" (use an ASCII letter, then letters, digits or "/")`,
    ],
    [opts(["gpus=x"]), S, `Cannot parse --resource "gpus=x": gpus: amount "x" is not a number`],
    [
      opts(["gpus=1 fast"]),
      S,
      `Cannot parse --resource "gpus=1 fast": gpus: unknown policy "fast" (use compact, compact!, tight, tight!, scatter)`,
    ],
    [
      opts(["gpus=all compact"]),
      S,
      `Cannot parse --resource "gpus=all compact": gpus: "all" takes no policy`,
    ],
    [
      opts(["gpus=1 compact tight"]),
      S,
      `Cannot parse --resource "gpus=1 compact tight": unexpected "tight" after the policy of "gpus"`,
    ],
    [opts(["gpus=0"]), RangeError, `Cannot use --resource "gpus=0": gpus amount must be positive`],
    [
      opts(["gpus=1 gpus=2"]),
      S,
      `Cannot parse --resource "gpus=1 gpus=2": resource "gpus" is requested twice`,
    ],
    [
      opts(["cpus=1 | cpus=2 cpus=3"]),
      S,
      `Cannot parse --resource "cpus=1 | cpus=2 cpus=3": resource "cpus" is requested twice`,
    ],
    [
      opts(["gpus=1 |"]),
      S,
      `Cannot parse --resource "gpus=1 |": empty request (expected "name=<amount> [policy]")`,
    ],
    [
      opts(["| gpus=1"]),
      S,
      `Cannot parse --resource "| gpus=1": empty request (expected "name=<amount> [policy]")`,
    ],
    [
      opts(["gpus=1", "gpus=2"]),
      S,
      `Cannot combine --resource "gpus=1" with --resource "gpus=2": resource "gpus" is requested twice`,
    ],
    [
      opts(["cpus=2"], "1"),
      S,
      `Cannot combine --cpus "1" with --resource "cpus=2": cpus are requested twice`,
    ],
    [
      opts(["gpus=1 | cpus=2"], "1"),
      S,
      `Cannot combine --cpus "1" with --resource "gpus=1 | cpus=2": cpus are requested twice`,
    ],
    [
      opts(["a=1 | b=1", "c=1 | d=1"]),
      S,
      `Cannot combine --resource "a=1 | b=1" with --resource "c=1 | d=1": only one --resource value may contain "|"`,
    ],
    [
      opts([thirtyThree]),
      RangeError,
      `Cannot use --resource "${thirtyThree}": 33 variants exceed the maximum of 32`,
    ],
    [
      { resources: [], timeRequestMs: -1 },
      RangeError,
      "Cannot use time request -1 ms: expected a non-negative integer",
    ],
  ];
  for (const [options, cls, message] of cases) {
    assert.throws(() => buildRequestVariants(options), (e: unknown) => {
      assert.ok(e instanceof cls, `${JSON.stringify(options)}: ${e}`);
      assert.equal((e as Error).message, message);
      assert.ok(!message.includes("\n"));
      return true;
    });
  }
});

Deno.test("formatRequest() and formatResourceFlag() print requests", () => {
  const req: ResourceRequest = {
    entries: [
      { resource: "cpus", amount: 0, policy: "all" },
      { resource: "gpus", amount: 5000, policy: "forceTight" },
    ],
    minTimeMs: 0,
  };
  assert.equal(formatRequest(req), "cpus: all, gpus: 0.5 tight!");
  assert.equal(
    formatResourceFlag([req, req]),
    "cpus=all gpus=0.5 tight! | cpus=all gpus=0.5 tight!",
  );
});

const NAMES = ["cpus", "gpus", "gpus/nvidia", "mem", "a1", "Z"];

const entryArb = (resource: string): fc.Arbitrary<ResourceEntry> =>
  fc.oneof(
    fc.record({
      resource: fc.constant(resource),
      amount: fc.integer({ min: 1, max: 10 ** 9 }),
      policy: fc.constantFrom(
        "compact" as const,
        "forceCompact" as const,
        "tight" as const,
        "forceTight" as const,
        "scatter" as const,
      ),
    }),
    fc.record({
      resource: fc.constant(resource),
      amount: fc.constant(0),
      policy: fc.constant("all" as const),
    }),
  ).map((e) => ({ ...e }));

const requestArb: fc.Arbitrary<ResourceRequest> = fc
  .subarray(NAMES.filter((n) => n !== "cpus"))
  .chain((names) => fc.tuple(...["cpus", ...names].map(entryArb)))
  .map((entries) => ({
    entries: [...entries].sort((a, b) => (a.resource < b.resource ? -1 : 1)),
    minTimeMs: 0,
  }));

Deno.test("buildRequestVariants() reads back formatResourceFlag() (property)", () => {
  fc.assert(
    fc.property(fc.array(requestArb, { minLength: 1, maxLength: MAX_VARIANTS }), (reqs) => {
      const text = formatResourceFlag(reqs);
      assert.deepEqual(buildRequestVariants({ resources: [text], timeRequestMs: 0 }), reqs);
    }),
  );
});

Deno.test("buildRequestVariants() sets a weight on every variant, leaving the default out", () => {
  const plain = buildRequestVariants({ resources: ["cpus=1 | gpus=1"], timeRequestMs: 0 });
  assert.ok(plain.every((r) => r.weight === undefined));
  const heavy = buildRequestVariants({
    resources: ["cpus=1 | gpus=1"],
    timeRequestMs: 0,
    weight: 25_000,
  });
  assert.deepEqual(heavy.map((r) => r.weight), [25_000, 25_000]);
  assert.equal(
    buildRequestVariants({ resources: [], timeRequestMs: 0, weight: 10_000 })[0]!.weight,
    undefined,
  );
  assert.throws(
    () => buildRequestVariants({ resources: [], timeRequestMs: 0, weight: 0 }),
    RangeError,
  );
});
