import assert from "node:assert/strict";
import fc from "fast-check";
import { cellLines, renderTable, renderVerticalTable, textWidth, truncateMiddle } from "./table.ts";

Deno.test("renderTable() matches the HyperQueue job list example", () => {
  const expected = [
    "+----+------+---------+-------+",
    "| ID | Name | State   | Tasks |",
    "+----+------+---------+-------+",
    "| 1  | ls   | RUNNING | 1     |",
    "+----+------+---------+-------+",
  ].join("\n");
  assert.equal(
    renderTable(["ID", "Name", "State", "Tasks"], [["1", "ls", "RUNNING", "1"]]),
    expected,
  );
});

Deno.test("renderTable() puts no separators between data rows", () => {
  const expected = [
    "+---------+-------+",
    "| Status  | Count |",
    "+---------+-------+",
    "| RUNNING | 1     |",
    "| FAILED  | 12    |",
    "+---------+-------+",
  ].join("\n");
  assert.equal(
    renderTable(["Status", "Count"], [["RUNNING", "1"], ["FAILED", "12"]]),
    expected,
  );
});

Deno.test("renderTable() spreads multi-line cells over several lines", () => {
  const expected = [
    "+----+-------+",
    "| ID | Error |",
    "+----+-------+",
    "| 1  | a     |",
    "|    | bcd   |",
    "| 2  | x     |",
    "+----+-------+",
  ].join("\n");
  assert.equal(renderTable(["ID", "Error"], [["1", "a\nbcd"], ["2", "x"]]), expected);
});

Deno.test("renderTable() pads short rows and handles no rows", () => {
  assert.equal(
    renderTable(["A", "B"], [["1"]]),
    ["+---+---+", "| A | B |", "+---+---+", "| 1 |   |", "+---+---+"].join("\n"),
  );
  assert.equal(renderTable(["A"], []), ["+---+", "| A |", "+---+"].join("\n"));
});

Deno.test("renderTable() counts terminal columns, not UTF-16 units", () => {
  assert.equal(
    renderTable(["N"], [["😀é"]]),
    ["+-----+", "| N   |", "+-----+", "| 😀é |", "+-----+"].join("\n"),
  );
  assert.equal(textWidth("e\u0301…"), 2);
  assert.equal(textWidth("日本"), 4);
});

Deno.test("renderTable() right-justifies marked columns but never the header", () => {
  assert.equal(
    renderTable(["ID", "Name"], [["7", "ls"], ["10", "x"]], { justify: ["right"] }),
    [
      "+----+------+",
      "| ID | Name |",
      "+----+------+",
      "|  7 | ls   |",
      "| 10 | x    |",
      "+----+------+",
    ].join("\n"),
  );
});

Deno.test("renderTable() splits cells as Rust's lines(): no line for '' or a final newline", () => {
  assert.deepEqual(cellLines(""), []);
  assert.deepEqual(cellLines("a\n"), ["a"]);
  assert.deepEqual(cellLines("a\r\n\nb"), ["a", "", "b"]);
  assert.equal(
    renderTable(["A", "B"], [["x\ny\n", ""]]),
    ["+---+---+", "| A | B |", "+---+---+", "| x |   |", "| y |   |", "+---+---+"].join("\n"),
  );
  // A row of empty cells has no line at all.
  assert.equal(
    renderVerticalTable([["Key", "v"], ["", ""]]),
    ["+-----+---+", "| Key | v |", "+-----+---+"].join("\n"),
  );
});

Deno.test("renderVerticalTable() has borders only at top and bottom", () => {
  const rendered = renderVerticalTable([
    ["ID", "1"],
    ["Name", "ls"],
    ["State", "RUNNING"],
    ["Tasks", "3; Ids: 0-1\nsecond line"],
  ]);
  assert.equal(
    rendered,
    [
      "+-------+-------------+",
      "| ID    | 1           |",
      "| Name  | ls          |",
      "| State | RUNNING     |",
      "| Tasks | 3; Ids: 0-1 |",
      "|       | second line |",
      "+-------+-------------+",
    ].join("\n"),
  );
});

Deno.test("renderTable() lines all have the same width", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.string(), { minLength: 3, maxLength: 3 }), { maxLength: 5 }),
      (rows) => {
        const widths = new Set(renderTable(["a", "b", "c"], rows).split("\n").map(textWidth));
        assert.equal(widths.size, 1);
      },
    ),
  );
});

Deno.test("truncateMiddle() keeps start and end", () => {
  assert.equal(truncateMiddle("short", 50), "short");
  assert.equal(truncateMiddle("abcdefghij", 10), "abcdefghij");
  assert.equal(truncateMiddle("abcdefghijk", 10), "abcd...ijk");
  assert.equal(truncateMiddle("abcdefghijk", 9), "abc...ijk");
  assert.equal(truncateMiddle("abcdef", 3), "...");
  assert.equal(textWidth(truncateMiddle("x".repeat(200), 50)), 50);
  assert.equal(truncateMiddle("😀😀😀😀😀😀", 5), "😀...😀");
  assert.throws(() => truncateMiddle("abc", 2), RangeError);
});
