import assert from "node:assert/strict";
import { parseSelector, resolveSelector } from "./selector.ts";

Deno.test("parseSelector() recognises keywords and id sets", () => {
  assert.deepEqual(parseSelector("last"), { kind: "last" });
  assert.deepEqual(parseSelector(" all "), { kind: "all" });
  assert.deepEqual(parseSelector("1-3,7"), {
    kind: "ids",
    ids: [{ start: 1, end: 3 }, { start: 7, end: 7 }],
  });
});

Deno.test("parseSelector() rejects other words", () => {
  assert.throws(() => parseSelector("lastt"), SyntaxError);
  assert.throws(() => parseSelector(""), SyntaxError);
  assert.throws(() => parseSelector("3-1"), RangeError);
});

Deno.test("resolveSelector() picks existing ids", () => {
  const existing = [1, 2, 5, 9];
  assert.deepEqual(resolveSelector({ kind: "all" }, existing), [1, 2, 5, 9]);
  assert.deepEqual(resolveSelector({ kind: "last" }, existing), [9]);
  assert.deepEqual(resolveSelector({ kind: "last" }, []), []);
  assert.deepEqual(resolveSelector({ kind: "all" }, []), []);
  assert.deepEqual(resolveSelector(parseSelector("2-9,100"), existing), [2, 5, 9]);
  assert.deepEqual(resolveSelector(parseSelector("3"), existing), []);
});

Deno.test("resolveSelector() returns a copy for all", () => {
  const existing = [1, 2];
  const result = resolveSelector({ kind: "all" }, existing);
  result.push(3);
  assert.deepEqual(existing, [1, 2]);
});
