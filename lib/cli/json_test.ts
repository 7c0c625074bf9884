import assert from "node:assert/strict";
import fc from "fast-check";
import { f64, formatF64, formatJson, formatJsonPlain, type JsonValue } from "./json.ts";

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

Deno.test("formatJson() orders keys by their UTF-8 bytes", () => {
  const keys = ["b", "a", "é", "\uffff", "😀", "Z", "aa", ""];
  const obj = Object.fromEntries(keys.map((k) => [k, 0]));
  const printed = [...formatJson(obj).matchAll(/"(.*)": 0/g)].map((m) => m[1]);
  const enc = new TextEncoder();
  const byBytes = [...keys].sort((x, y) => {
    const [p, q] = [enc.encode(x), enc.encode(y)];
    for (let i = 0; i < Math.min(p.length, q.length); i++) if (p[i] !== q[i]) return p[i]! - q[i]!;
    return p.length - q.length;
  });
  assert.deepEqual(printed, byBytes);
  assert.deepEqual(printed.slice(-2), ["\uffff", "😀"]);
});

Deno.test("formatJson() takes the plain writer when the document holds its marker characters", () => {
  const doc = { "\ue001k": "\ue000x\ue000", n: f64(2) };
  assert.equal(formatJson(doc), formatJsonPlain(doc));
  assert.match(formatJson(doc), /"\ue000x\ue000"/);
});

Deno.test("formatJson() prints what the plain writer prints for random documents", () => {
  const key = fc.oneof(fc.string(), fc.constantFrom("0", "1", "10", "2", "4294967295", "01", "-1"));
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(f64),
  );
  const doc = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
    array: fc.array(tie("value"), { maxLength: 4 }),
    object: fc.dictionary(key, tie("value"), { maxKeys: 5 }),
  })).value;
  fc.assert(
    fc.property(doc, (d) => {
      assert.equal(formatJson(d as JsonValue), formatJsonPlain(d as JsonValue));
    }),
    { numRuns: 300 },
  );
});

Deno.test("formatJson() keeps a __proto__ key as an ordinary member", () => {
  const doc = JSON.parse('{"__proto__": 1, "a": 2}') as JsonValue;
  assert.equal(formatJson(doc), '{\n  "__proto__": 1,\n  "a": 2\n}');
  assert.equal(formatJsonPlain(doc), formatJson(doc));
});
