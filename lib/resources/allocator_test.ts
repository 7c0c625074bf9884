import assert from "node:assert/strict";
import { type AllocatedResource, allocationValues, ResourceAllocator } from "./allocator.ts";
import { parseResourceDef } from "./descriptor.ts";
import type { ResourceRequest } from "./request.ts";
import { buildRequestVariants } from "./variants.ts";

/** A request from `--resource` text (no implicit cpus unless named). */
function req(text: string): ResourceRequest {
  const [r] = buildRequestVariants({ resources: [text], timeRequestMs: 0 });
  const named = text.split(/\s+/).some((t) => t.startsWith("cpus="));
  return named ? r! : { ...r!, entries: r!.entries.filter((e) => e.resource !== "cpus") };
}

function allocator(...defs: string[]): ResourceAllocator {
  return new ResourceAllocator(defs.map(parseResourceDef));
}

/** Indices taken per group of an NxM pool with M per group. */
function perGroup(r: AllocatedResource, groups: number, per: number): number[] {
  const counts = Array.from({ length: groups }, () => 0);
  for (const i of r.indices) counts[Math.floor(Number(i.label) / per)]!++;
  return counts;
}

function take(a: ResourceAllocator, text: string): AllocatedResource {
  const got = a.tryAllocate(req(text));
  assert.ok(got !== null, `expected ${text} to fit`);
  return got.resources[0]!;
}

Deno.test("ResourceAllocator group policies follow HyperQueue's examples (6 of 3x4)", () => {
  const cases: [string, number[]][] = [
    ["cpus=6", [3, 3, 0]],
    ["cpus=6 compact!", [3, 3, 0]],
    ["cpus=6 tight", [4, 2, 0]],
    ["cpus=6 tight!", [4, 2, 0]],
    ["cpus=6 scatter", [2, 2, 2]],
    ["cpus=4", [4, 0, 0]],
    ["cpus=3 scatter", [1, 1, 1]],
    ["cpus=12 scatter", [4, 4, 4]],
  ];
  for (const [text, expected] of cases) {
    assert.deepEqual(perGroup(take(allocator("cpus=3x4"), text), 3, 4), expected, text);
  }
});

Deno.test("ResourceAllocator scatter of 8 on 4x8 takes 2 per group", () => {
  assert.deepEqual(perGroup(take(allocator("cpus=4x8"), "cpus=8 scatter"), 4, 8), [2, 2, 2, 2]);
});

Deno.test("ResourceAllocator compact! waits for the minimal group count", () => {
  const a = allocator("cpus=2x4");
  const first = take(a, "cpus=2");
  assert.equal(allocationValues(first), "0,1");
  const second = take(a, "cpus=1");
  // group 0 has 1 free, group 1 has 4: compact prefers the tightest group that fits
  assert.equal(allocationValues(second), "2");
  assert.equal(allocationValues(take(a, "cpus=1")), "3");
  // 4 fit in group 1; 5 of 4-per-group always need two groups
  assert.equal(a.tryAllocate(req("cpus=5 compact!")), null, "only 4 free");
  const four = take(a, "cpus=4 compact!");
  assert.deepEqual(perGroup(four, 2, 4), [0, 4]);
  a.release({ resources: [four] });
  a.release({ resources: [second] });
  // now group 0 has 1 free (index 2), group 1 has 4: 4 compact! fits in group 1 only
  assert.deepEqual(perGroup(take(a, "cpus=4 compact!"), 2, 4), [0, 4]);
  // only index 2 is free now
  assert.equal(a.tryAllocate(req("cpus=2 compact!")), null);
});

Deno.test("ResourceAllocator strict policies refuse a split that plain ones accept", () => {
  const cases: [string, string, number[]][] = [
    ["compact!", "compact", [2, 2]],
    ["tight!", "tight", [3, 1]],
  ];
  for (const [strict, plain, expected] of cases) {
    const a = allocator("cpus=2x4");
    assert.deepEqual(perGroup(take(a, "cpus=2 scatter"), 2, 4), [1, 1]);
    assert.equal(a.tryAllocate(req(`cpus=4 ${strict}`)), null, strict);
    assert.equal(a.free("cpus"), 60000);
    assert.deepEqual(perGroup(take(a, `cpus=4 ${plain}`), 2, 4), expected, plain);
  }
});

Deno.test("ResourceAllocator compact! takes 8 of 4-per-group from exactly two groups", () => {
  const a = allocator("cpus=4x4");
  take(a, "cpus=2 scatter"); // free per group: [3, 3, 4, 4]
  assert.deepEqual(perGroup(take(a, "cpus=8 compact!"), 4, 4), [0, 0, 4, 4]);
  assert.equal(a.tryAllocate(req("cpus=4 compact!")), null, "3 + 3 free: would need two groups");
  assert.equal(a.tryAllocate(req("cpus=4 tight!")), null);
  assert.deepEqual(perGroup(take(a, "cpus=3 compact!"), 4, 4), [3, 0, 0, 0]);
  const b = allocator("cpus=4x4");
  take(b, "cpus=1 scatter"); // free per group: [3, 4, 4, 4]
  // 9 needs three groups even on a free worker, so three are fine
  assert.deepEqual(perGroup(take(b, "cpus=9 compact!"), 4, 4), [0, 3, 3, 3]);
});

Deno.test("ResourceAllocator tight fills the biggest free group first, compact spreads evenly", () => {
  for (
    const [text, expected] of [["cpus=6 tight", [2, 0, 4]], ["cpus=6 compact", [0, 3, 3]]] as const
  ) {
    const a = allocator("cpus=3x4");
    take(a, "cpus=1"); // free per group: [3, 4, 4]
    take(a, "cpus=2 scatter"); // groups 0 and 1: [2, 3, 4]
    assert.deepEqual(perGroup(take(a, text), 3, 4), expected, text);
  }
});

Deno.test("ResourceAllocator fractions: below 1 must fit a single index", () => {
  const a = allocator("gpus=2");
  const x = take(a, "gpus=0.75");
  const y = take(a, "gpus=0.75");
  assert.deepEqual(x.indices, [{ label: "0", fraction: 7500 }]);
  assert.deepEqual(y.indices, [{ label: "1", fraction: 7500 }]);
  assert.equal(a.free("gpus"), 5000);
  assert.equal(a.tryAllocate(req("gpus=0.5")), null);
  const small = take(a, "gpus=0.25");
  assert.deepEqual(small.indices, [{ label: "0", fraction: 2500 }]);
  a.release({ resources: [x] });
  // free: index 0 has 0.75, index 1 has 0.25; 0.5 fits only index 0
  assert.deepEqual(take(a, "gpus=0.5").indices, [{ label: "0", fraction: 5000 }]);
});

Deno.test("ResourceAllocator fractions: 2.5 takes two whole indices plus half of another", () => {
  const a = allocator("gpus=4");
  const r = take(a, "gpus=2.5");
  assert.deepEqual(r.indices, [
    { label: "0", fraction: 10000 },
    { label: "1", fraction: 10000 },
    { label: "2", fraction: 5000 },
  ]);
  assert.equal(r.amount, 25000);
  assert.equal(allocationValues(r), "0,1,2");
  // next 1.5 prefers the partially used index 2 for its half, listed last
  const s = take(a, "gpus=1.5");
  assert.deepEqual(s.indices, [{ label: "3", fraction: 10000 }, { label: "2", fraction: 5000 }]);
  assert.equal(allocationValues(s), "3,2");
  assert.equal(a.free("gpus"), 0);
  assert.equal(a.tryAllocate(req("gpus=0.0001")), null);
});

Deno.test("allocationValues() lists partially used indices last", () => {
  assert.equal(
    allocationValues({
      resource: "gpus",
      amount: 25000,
      indices: [
        { label: "7", fraction: 5000 },
        { label: "1", fraction: 10000 },
        { label: "3", fraction: 10000 },
      ],
    }),
    "1,3,7",
  );
  assert.equal(allocationValues({ resource: "mem", amount: 5, indices: [] }), "");
});

Deno.test("ResourceAllocator all takes the whole pool only when entirely free", () => {
  const a = allocator("gpus=[a,b,c]", "mem=sum(100)");
  const all = take(a, "gpus=all");
  assert.equal(allocationValues(all), "a,b,c");
  assert.equal(all.amount, 30000);
  assert.equal(a.free("gpus"), 0);
  a.release({ resources: [all] });
  const one = take(a, "gpus=0.1");
  assert.equal(a.tryAllocate(req("gpus=all")), null);
  a.release({ resources: [one] });
  assert.equal(take(a, "mem=all").amount, 1000000);
  assert.equal(a.tryAllocate(req("mem=1")), null);
  const empty = allocator("mem=sum(0)", "gpus=1");
  assert.equal(empty.canEverFit(req("mem=all")), false);
  assert.equal(empty.tryAllocate(req("mem=all")), null);
  assert.equal(empty.canEverFit(req("gpus=all")), true);
});

Deno.test("ResourceAllocator sum pools subtract amounts in fixed point", () => {
  const a = allocator("mem=sum(1024)");
  assert.equal(a.free("mem"), 10240000);
  const x = take(a, "mem=1000.5");
  assert.deepEqual(x, { resource: "mem", indices: [], amount: 10005000 });
  assert.equal(a.tryAllocate(req("mem=24")), null);
  take(a, "mem=23.5");
  assert.equal(a.free("mem"), 0);
  a.release({ resources: [x] });
  assert.equal(a.free("mem"), 10005000);
});

Deno.test("ResourceAllocator canEverFit() and missing resources", () => {
  const a = allocator("cpus=2x4", "gpus=[0,1]", "mem=sum(10)");
  assert.equal(a.canEverFit(req("cpus=8 gpus=2 mem=10")), true);
  assert.equal(a.canEverFit(req("cpus=8.0001")), false);
  assert.equal(a.canEverFit(req("gpus=2.5")), false);
  assert.equal(a.canEverFit(req("mem=10.0001")), false);
  assert.equal(a.canEverFit(req("fpga=1")), false);
  assert.equal(a.tryAllocate(req("cpus=1 fpga=1")), null);
  assert.equal(a.free("cpus"), 80000, "a failed request takes nothing");
  assert.equal(a.free("fpga"), 0);
  assert.deepEqual(a.freeIndices("mem"), []);
  assert.equal(a.freeIndices("gpus").length, 2);
});

Deno.test("ResourceAllocator takes nothing when one entry of a request does not fit", () => {
  const a = allocator("cpus=4", "gpus=1");
  assert.equal(a.tryAllocate(req("cpus=2 gpus=2")), null);
  assert.equal(a.free("cpus"), 40000);
  assert.equal(a.free("gpus"), 10000);
  const dup = { entries: [...req("gpus=1").entries, ...req("gpus=1").entries], minTimeMs: 0 };
  assert.equal(a.tryAllocate(dup), null, "duplicate entries cannot over-commit");
  assert.equal(a.free("gpus"), 10000);
});

Deno.test("ResourceAllocator tryAllocateVariants() picks the first variant that fits", () => {
  const a = allocator("cpus=4", "gpus=1");
  const reqs = buildRequestVariants({ resources: ["cpus=1 gpus=1 | cpus=4"], timeRequestMs: 0 });
  const first = a.tryAllocateVariants(reqs);
  assert.equal(first?.variant, 0);
  assert.equal(a.tryAllocateVariants(reqs), null, "gpu taken, 3 cpus free");
  a.release(first!.allocation);
  take(a, "gpus=1");
  assert.equal(a.tryAllocateVariants(reqs)?.variant, 1);
});

Deno.test("ResourceAllocator release() rejects foreign or double releases and changes nothing", () => {
  const a = allocator("gpus=2", "mem=sum(1)");
  const r = a.tryAllocate(req("gpus=1 mem=1"))!;
  a.release(r);
  assert.throws(() => a.release(r), {
    name: "RangeError",
    message: `Cannot release resource "mem": amount 10000 exceeds what is in use`,
  });
  assert.throws(() => a.release({ resources: [r.resources[0]!] }), {
    name: "RangeError",
    message: `Cannot release index "0": fraction 10000 exceeds what is in use`,
  });
  assert.throws(
    () => a.release({ resources: [{ resource: "x", indices: [], amount: 1 }] }),
    { name: "RangeError", message: `Cannot release resource "x": the worker has no such pool` },
  );
  assert.throws(
    () =>
      a.release({
        resources: [{ resource: "gpus", indices: [{ label: "9", fraction: 1 }], amount: 1 }],
      }),
    { name: "RangeError", message: `Cannot release resource "gpus": unknown index "9"` },
  );
  const g = take(a, "gpus=1");
  assert.throws(() => a.release({ resources: [g, { resource: "mem", indices: [], amount: 1 }] }));
  assert.equal(a.free("gpus"), 10000, "the failed release returned nothing");
  assert.throws(() => new ResourceAllocator([...["gpus=1", "gpus=2"].map(parseResourceDef)]), {
    name: "RangeError",
    message: `Cannot create resource allocator: resource "gpus" is defined twice`,
  });
});

Deno.test("ResourceAllocator handles 256 cpus in 8 groups quickly", () => {
  const a = allocator("cpus=8x32");
  const held = [];
  for (let i = 0; i < 64; i++) {
    held.push(take(a, i % 2 === 0 ? "cpus=3 scatter" : "cpus=1.5 tight"));
  }
  assert.equal(a.free("cpus"), 2560000 - 32 * 30000 - 32 * 15000);
  for (const r of held) a.release({ resources: [r] });
  assert.equal(a.free("cpus"), 2560000);
});

Deno.test("ResourceAllocator fractions under compact! stay within the minimal group count", () => {
  const a = allocator("cpus=2x4");
  const first = take(a, "cpus=3.5 compact!");
  assert.equal(allocationValues(first), "0,1,2,3");
  assert.equal(first.indices[3]!.fraction, 5000);
  // index 3 has 0.5 free, but using it with 3 indices of group 1 would span two groups
  assert.deepEqual(perGroup(take(a, "cpus=3.5 compact!"), 2, 4), [0, 4]);
  const b = allocator("cpus=2x4");
  take(b, "cpus=3.5 compact!");
  const plain = take(b, "cpus=3.5 compact");
  assert.equal(allocationValues(plain), "4,5,6,3", "non-strict reuses the partial index");
});
