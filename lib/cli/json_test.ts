import assert from "node:assert/strict";
import fc from "fast-check";
import { f64, formatF64, formatJson } from "./json.ts";

interface RustReference {
  floats: [string, string][];
}

const REFERENCE: RustReference = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/rust_reference.json", import.meta.url)),
);

Deno.test("formatF64() matches serde_json on 800 reference values", () => {
  assert.ok(REFERENCE.floats.length > 800);
  const wrong: string[] = [];
  for (const [input, expected] of REFERENCE.floats) {
    const got = formatF64(Number(input));
    if (got !== expected) wrong.push(`${input}: got ${got}, expected ${expected}`);
  }
  assert.deepEqual(wrong, []);
});

Deno.test("formatF64() always shows a fraction or an exponent", () => {
  assert.equal(formatF64(8), "8.0");
  assert.equal(formatF64(0), "0.0");
  assert.equal(formatF64(-1.5), "-1.5");
  assert.equal(formatF64(1e-5), "0.00001");
  assert.equal(formatF64(1e-6), "1e-6");
  assert.equal(formatF64(1e16), "1e16");
  assert.equal(formatF64(Math.fround(0.3)), "0.30000001192092896");
  assert.equal(formatF64(NaN), "null");
});

Deno.test("formatF64() round-trips through Number()", () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
      assert.ok(Object.is(Number(formatF64(x)), x), formatF64(x));
      assert.match(formatF64(x), /[.e]/);
    }),
  );
});

Deno.test("formatJson() sorts keys at every level and indents by two spaces", () => {
  const text = formatJson({
    server_dir: null,
    pid: 42,
    nested: { b: 1, a: [{ z: 1, y: null }] },
    empty_obj: {},
    empty_arr: [],
  });
  assert.equal(
    text,
    [
      "{",
      '  "empty_arr": [],',
      '  "empty_obj": {},',
      '  "nested": {',
      '    "a": [',
      "      {",
      '        "y": null,',
      '        "z": 1',
      "      }",
      "    ],",
      '    "b": 1',
      "  },",
      '  "pid": 42,',
      '  "server_dir": null',
      "}",
    ].join("\n"),
  );
});

Deno.test("formatJson() sorts numeric keys as strings and drops undefined members", () => {
  assert.equal(
    formatJson({ "10": [], "2": [], "1": [0], gone: undefined }),
    '{\n  "1": [\n    0\n  ],\n  "10": [],\n  "2": []\n}',
  );
});

Deno.test("formatJson() escapes strings as serde_json does", () => {
  assert.equal(formatJson('é\u0001"\\/\t'), '"é\\u0001\\"\\\\/\\t"');
  assert.equal(formatJson([[], {}]), "[\n  [],\n  {}\n]");
});

Deno.test("formatJson() prints f64 values with a fraction and integers without", () => {
  assert.equal(
    formatJson({ d: f64(1.5030000000000001), n: 3, z: f64(0) }),
    [
      "{",
      '  "d": 1.5030000000000001,',
      '  "n": 3,',
      '  "z": 0.0',
      "}",
    ].join("\n"),
  );
});
