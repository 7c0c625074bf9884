import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatIdSet,
  type IdSet,
  idSetFromIds,
  idSetHas,
  idSetIterate,
  idSetMax,
  idSetRank,
  idSetSize,
  MAX_ID,
  parseIdSet,
} from "./id_set.ts";

Deno.test("parseIdSet() parses single ids, ranges, steps and lists", () => {
  const cases: [string, IdSet][] = [
    ["7", [{ start: 7, end: 7 }]],
    ["0", [{ start: 0, end: 0 }]],
    ["1-10", [{ start: 1, end: 10 }]],
    ["5-5", [{ start: 5, end: 5 }]],
    ["0-10:2", [0, 2, 4, 6, 8, 10].map((id) => ({ start: id, end: id }))],
    ["0-9:3", [0, 3, 6, 9].map((id) => ({ start: id, end: id }))],
    ["1-4:1", [{ start: 1, end: 4 }]],
    ["1,3,5-8", [{ start: 1, end: 1 }, { start: 3, end: 3 }, { start: 5, end: 8 }]],
    ["1_000-2_000", [{ start: 1000, end: 2000 }]],
    [" 1 , 2 ,5 ", [{ start: 1, end: 2 }, { start: 5, end: 5 }]],
    ["8,1-3,2-5", [{ start: 1, end: 5 }, { start: 8, end: 8 }]],
    ["1,1,1", [{ start: 1, end: 1 }]],
    ["4294967295", [{ start: MAX_ID, end: MAX_ID }]],
    ["0-4294967295", [{ start: 0, end: MAX_ID }]],
  ];
  for (const [text, expected] of cases) {
    assert.deepEqual(parseIdSet(text), expected, text);
  }
});

Deno.test("parseIdSet() rejects malformed text with SyntaxError", () => {
  for (
    const text of ["", "  ", "1-", "-3", "a", "1,,2", "1,", "1-2-3", "1.5", "_1", "3:2", "1-5:"]
  ) {
    assert.throws(() => parseIdSet(text), SyntaxError, text);
  }
  assert.throws(() => parseIdSet("1-"), {
    name: "SyntaxError",
    message: 'Cannot parse id set "1-": expected a number, found a missing number',
  });
  assert.throws(() => parseIdSet("x"), {
    message: 'Cannot parse id set "x": expected a number, found "x"',
  });
});

Deno.test("parseIdSet() rejects out-of-range values with RangeError", () => {
  assert.throws(() => parseIdSet("5-3"), {
    name: "RangeError",
    message: 'Cannot parse id set "5-3": range "5-3" ends before it starts',
  });
  assert.throws(() => parseIdSet("4294967296"), RangeError);
  assert.throws(() => parseIdSet("0-10:0"), {
    name: "RangeError",
    message: 'Cannot parse id set "0-10:0": step in "0-10:0" must be positive',
  });
  assert.throws(() => parseIdSet("0-4294967295:2"), RangeError);
});

Deno.test("formatIdSet() prints compact ranges", () => {
  assert.equal(formatIdSet(parseIdSet("1-3,5,7-9")), "1-3,5,7-9");
  assert.equal(formatIdSet(parseIdSet("0-6:2")), "0,2,4,6");
  assert.equal(formatIdSet([]), "");
});

Deno.test("idSetSize() counts ids", () => {
  assert.equal(idSetSize(parseIdSet("1-3,5,7-9")), 7);
  assert.equal(idSetSize([]), 0);
  assert.equal(idSetSize(parseIdSet("0-4294967295")), 4294967296);
});

Deno.test("idSetHas() finds members and rejects others", () => {
  const set = parseIdSet("1-3,5,7-9,100");
  for (const id of [1, 2, 3, 5, 7, 8, 9, 100]) assert.equal(idSetHas(set, id), true, `${id}`);
  for (const id of [0, 4, 6, 10, 99, 101]) assert.equal(idSetHas(set, id), false, `${id}`);
  assert.equal(idSetHas([], 1), false);
});

Deno.test("idSetFromIds() sorts, dedups and merges", () => {
  assert.deepEqual(idSetFromIds([5, 1, 2, 3, 3, 9, 8]), [
    { start: 1, end: 3 },
    { start: 5, end: 5 },
    { start: 8, end: 9 },
  ]);
  assert.deepEqual(idSetFromIds([]), []);
  assert.throws(() => idSetFromIds([-1]), RangeError);
  assert.throws(() => idSetFromIds([1.5]), RangeError);
});

Deno.test("idSetIterate() yields ascending ids", () => {
  assert.deepEqual([...idSetIterate(parseIdSet("7-9,1-2"))], [1, 2, 7, 8, 9]);
});

Deno.test("idSetMax() returns the largest id", () => {
  assert.equal(idSetMax(parseIdSet("1-3,20")), 20);
  assert.equal(idSetMax([]), undefined);
});

Deno.test("parseIdSet() round-trips formatIdSet() for random sets", () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 300 }), { minLength: 1 }), (ids) => {
      const set = idSetFromIds(ids);
      assert.deepEqual(parseIdSet(formatIdSet(set)), set);
      assert.equal(idSetSize(set), new Set(ids).size);
      assert.deepEqual([...idSetIterate(set)], [...new Set(ids)].sort((a, b) => a - b));
    }),
  );
});

Deno.test("parseIdSet() of a step range matches brute-force expansion", () => {
  fc.assert(
    fc.property(fc.nat(200), fc.nat(200), fc.integer({ min: 1, max: 20 }), (a, len, step) => {
      const set = parseIdSet(`${a}-${a + len}:${step}`);
      const expected: number[] = [];
      for (let id = a; id <= a + len; id += step) expected.push(id);
      assert.deepEqual([...idSetIterate(set)], expected);
    }),
  );
});

Deno.test("idSetRank() of a set of many ranges matches the position in the ids", () => {
  const ids = Array.from({ length: 1000 }, (_, i) => i * 3 + (i % 2));
  const set = idSetFromIds(ids);
  assert.ok(set.length > 8);
  ids.forEach((id, i) => assert.equal(idSetRank(set, id), i));
  assert.equal(idSetRank(set, 2), -1);
  assert.equal(idSetRank(set, 10_000), -1);
});
