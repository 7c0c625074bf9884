import assert from "node:assert/strict";
import fc from "fast-check";
import { type Allocation, ResourceAllocator } from "./allocator.ts";
import { FRACTIONS_PER_UNIT } from "./amount.ts";
import type { ResourcePool } from "./descriptor.ts";
import { minGroups } from "./_group_choice.ts";
import type { AllocationPolicy, ResourceEntry, ResourceRequest } from "./request.ts";

const POLICIES: AllocationPolicy[] = [
  "compact",
  "forceCompact",
  "tight",
  "forceTight",
  "scatter",
  "all",
];

const groupsArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 });

const poolsArb: fc.Arbitrary<ResourcePool[]> = fc
  .tuple(groupsArb, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 20 }))
  .map(([cpuGroups, gpus, mem]) => {
    let next = 0;
    return [
      {
        name: "cpus",
        kind: "groups" as const,
        groups: cpuGroups.map((n) => Array.from({ length: n }, () => `c${next++}`)),
        size: 0,
      },
      {
        name: "gpus",
        kind: "list" as const,
        groups: [Array.from({ length: gpus }, (_, i) => `g${i}`)],
        size: 0,
      },
      { name: "mem", kind: "sum" as const, groups: [], size: mem },
    ];
  });

/** Amounts in units up to a bit over the largest pool, often fractional. */
const amountArb = fc.oneof(
  fc.integer({ min: 1, max: 4 }).map((n) => n * FRACTIONS_PER_UNIT),
  fc.integer({ min: 1, max: 30 * FRACTIONS_PER_UNIT }),
  fc.constantFrom(2500, 5000, 7500, 15000, 25000),
);

const entryArb = (resource: string): fc.Arbitrary<ResourceEntry> =>
  fc.tuple(amountArb, fc.constantFrom(...POLICIES)).map(([amount, policy]) => ({
    resource,
    amount: policy === "all" ? 0 : amount,
    policy,
  }));

const requestArb: fc.Arbitrary<ResourceRequest> = fc
  .subarray(["cpus", "gpus", "mem", "fpga"], { minLength: 1 })
  .chain((names) =>
    fc.tuple(...names.filter((n) => n !== "fpga" || names.length === 1).map(entryArb))
  )
  .map((entries) => ({ entries, minTimeMs: 0 }));

type Op = { kind: "alloc"; request: ResourceRequest } | { kind: "release"; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: requestArb.map((request) => ({ kind: "alloc" as const, request })) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: "release" as const, pick })) },
);

function snapshot(a: ResourceAllocator): unknown {
  return ["cpus", "gpus", "mem"].map((r) => [a.free(r), a.freeIndices(r)]);
}

/** Checks every index and pool against capacity and against what the held allocations hold. */
function checkState(a: ResourceAllocator, pools: ResourcePool[], held: Allocation[]): void {
  const usedByLabel = new Map<string, number>();
  const usedByResource = new Map<string, number>();
  for (const alloc of held) {
    for (const r of alloc.resources) {
      usedByResource.set(r.resource, (usedByResource.get(r.resource) ?? 0) + r.amount);
      for (const i of r.indices) {
        usedByLabel.set(i.label, (usedByLabel.get(i.label) ?? 0) + i.fraction);
      }
    }
  }
  for (const pool of pools) {
    const capacity = pool.kind === "sum"
      ? pool.size * FRACTIONS_PER_UNIT
      : pool.groups.flat().length * FRACTIONS_PER_UNIT;
    const free = a.free(pool.name);
    assert.ok(free >= 0 && free <= capacity, `${pool.name}: free ${free} of ${capacity}`);
    assert.equal(free, capacity - (usedByResource.get(pool.name) ?? 0), pool.name);
    for (const { label, free: f } of a.freeIndices(pool.name)) {
      assert.ok(f >= 0 && f <= FRACTIONS_PER_UNIT, `${label}: free ${f}`);
      assert.equal(f, FRACTIONS_PER_UNIT - (usedByLabel.get(label) ?? 0), label);
    }
  }
}

Deno.test("ResourceAllocator never over-commits and release restores the free state (property)", () => {
  fc.assert(
    fc.property(poolsArb, fc.array(opArb, { maxLength: 40 }), (pools, ops) => {
      const a = new ResourceAllocator(pools);
      const initial = snapshot(a);
      const held: Allocation[] = [];
      for (const op of ops) {
        if (op.kind === "release") {
          if (held.length === 0) continue;
          const [gone] = held.splice(op.pick % held.length, 1);
          a.release(gone!);
        } else {
          const before = snapshot(a);
          const got = a.tryAllocate(op.request);
          if (got === null) {
            assert.deepEqual(snapshot(a), before, "a refused request changes nothing");
          } else {
            assert.ok(a.canEverFit(op.request));
            op.request.entries.forEach((e, i) => {
              const r = got.resources[i]!;
              assert.equal(r.resource, e.resource);
              if (e.policy !== "all") assert.equal(r.amount, e.amount);
              const partial = r.indices.filter((x) => x.fraction < FRACTIONS_PER_UNIT);
              assert.ok(partial.length <= 1, "at most one partially used index");
              assert.ok(partial.every((x) => x.fraction === e.amount % FRACTIONS_PER_UNIT));
              assert.equal(new Set(r.indices.map((x) => x.label)).size, r.indices.length);
            });
            held.push(got);
          }
        }
        checkState(a, pools, held);
      }
      for (const alloc of held) a.release(alloc);
      assert.deepEqual(snapshot(a), initial);
    }),
    { numRuns: 300 },
  );
});

Deno.test("ResourceAllocator on a free worker allocates exactly what canEverFit() admits (property)", () => {
  fc.assert(
    fc.property(poolsArb, requestArb, (pools, request) => {
      const a = new ResourceAllocator(pools);
      assert.equal(a.tryAllocate(request) !== null, a.canEverFit(request));
    }),
    { numRuns: 500 },
  );
});

Deno.test("ResourceAllocator group counts follow the policy for whole amounts (property)", () => {
  const setupArb = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 });
  fc.assert(
    fc.property(
      groupsArb,
      setupArb,
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom<AllocationPolicy>("compact", "tight", "scatter"),
      (groups, setup, n, policy) => {
        let next = 0;
        const labels = groups.map((g) => Array.from({ length: g }, () => String(next++)));
        const groupOf = new Map(labels.flatMap((g, i) => g.map((l) => [l, i] as const)));
        const a = new ResourceAllocator([{
          name: "cpus",
          kind: "groups",
          groups: labels,
          size: 0,
        }]);
        for (const s of setup) {
          a.tryAllocate({
            entries: [{ resource: "cpus", amount: s * FRACTIONS_PER_UNIT, policy: "scatter" }],
            minTimeMs: 0,
          });
        }
        const freeByGroup = labels.map(() => 0);
        for (const { label, free } of a.freeIndices("cpus")) {
          if (free === FRACTIONS_PER_UNIT) freeByGroup[groupOf.get(label)!]!++;
        }
        const got = a.tryAllocate({
          entries: [{ resource: "cpus", amount: n * FRACTIONS_PER_UNIT, policy }],
          minTimeMs: 0,
        });
        const total = freeByGroup.reduce((x, y) => x + y, 0);
        assert.equal(got !== null, n <= total);
        if (got === null) return;
        const used = new Set(got.resources[0]!.indices.map((i) => groupOf.get(i.label)));
        const expected = policy === "scatter"
          ? Math.min(n, freeByGroup.filter((f) => f > 0).length)
          : minGroups(freeByGroup, n);
        assert.equal(used.size, expected);
      },
    ),
    { numRuns: 500 },
  );
});
