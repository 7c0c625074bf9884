import assert from "node:assert/strict";
import { environmentLines, pluralize, selectPlural, truncateError, wrapText } from "./text_util.ts";

Deno.test("pluralize() and selectPlural() treat only 1 as singular", () => {
  assert.deepEqual([0, 1, 2].map((n) => pluralize("job", n)), ["jobs", "job", "jobs"]);
  assert.deepEqual([0, 1, 2].map((n) => selectPlural("is", "are", n)), ["are", "is", "are"]);
});

Deno.test("truncateError() cuts at the byte limit once the text reaches it", () => {
  assert.deepEqual(truncateError("short", 16), { text: "short", truncated: false });
  assert.deepEqual(truncateError("x".repeat(15), 16), { text: "x".repeat(15), truncated: false });
  assert.deepEqual(truncateError("x".repeat(16), 16), {
    text: `${"x".repeat(16)}...`,
    truncated: true,
  });
  // "é" is two bytes: the cut backs off to the character boundary.
  assert.deepEqual(truncateError(`${"x".repeat(15)}éé`, 16), {
    text: `${"x".repeat(15)}...`,
    truncated: true,
  });
});

Deno.test("wrapText() keeps short arguments and wraps long ones at spaces", () => {
  assert.equal(wrapText("echo 'hello'"), "echo 'hello'");
  assert.equal(wrapText("aaa bbb ccc", 7), "aaa bbb\nccc");
  assert.equal(wrapText("abcdefghij", 4), "abcd\nefgh\nij");
  assert.equal(wrapText("a\nb c", 3), "a\nb c");
});

Deno.test("environmentLines() sorts by key and hides HQ_ variables", () => {
  assert.equal(environmentLines({ FOO: "BAR", HQ_X: "1", BAZ: "2" }), "BAZ=2\nFOO=BAR");
  assert.equal(environmentLines({}), "");
});
