import { eagerFunctions } from "./_eager.ts";
import assert from "node:assert/strict";

/** Runs `code` as a module from a temporary file; returns its exports. */
async function load(code: string): Promise<Record<string, unknown>> {
  const file = await Deno.makeTempFile({ suffix: ".js" });
  try {
    await Deno.writeTextFile(file, code);
    return await import(`file://${file}`);
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("eagerFunctions keeps calls before a declaration working, as hoisting did", async () => {
  const code = [
    "const early = twice(21);",
    "function twice(n) { return helper(n) * 2; }",
    "function helper(n) { return n; }",
    "export { early };",
  ].join("\n");
  const out = eagerFunctions(code);
  assert.match(out, /^var twice = \(function twice\(n\)/);
  assert.equal((await load(out)).early, 42);
});

Deno.test("eagerFunctions rewrites async, generator and exported declarations", async () => {
  const code = [
    "export function plain() { return 1; }",
    "export async function later() { return 2; }",
    "function* gen() { yield 3; }",
    "export const all = [...gen()];",
  ].join("\n");
  const out = eagerFunctions(code);
  assert.match(out, /export var plain = \(function plain\(\)/);
  assert.match(out, /export var later = \(async function later\(\)/);
  assert.match(out, /var gen = \(function\* gen\(\)/);
  const mod = await load(out);
  assert.equal((mod.plain as () => number)(), 1);
  assert.equal(await (mod.later as () => Promise<number>)(), 2);
  assert.deepEqual(mod.all, [3]);
});

Deno.test("eagerFunctions parenthesizes closures and leaves methods and inner declarations alone", async () => {
  const code = [
    "class A { m() { function inner() {} return inner; } get g() { return 1; } }",
    "const f = function named() {};",
    "const o = { m(x) { return x; }, get two() { return 2; }, arrow: (x) => x + 1 };",
    "export const total = [1, 2].map((x) => o.m(x)).reduce(async (a, b) => (await a) + b, 0);",
    "export { A, f, o };",
  ].join("\n");
  const out = eagerFunctions(code);
  assert.match(out, /class A \{ m\(\) \{ function inner\(\) \{\} return inner; \} get g\(\)/);
  assert.match(out, /const f = \(function named\(\) \{\}\);/);
  assert.match(
    out,
    /\{ m\(x\) \{ return x; \}, get two\(\) \{ return 2; \}, arrow: \(\(x\) => x \+ 1\) \}/,
  );
  assert.match(out, /\.map\(\(\(x\) => o\.m\(x\)\)\)/);
  const mod = await load(out);
  assert.equal(await mod.total, 3);
  assert.equal((mod.o as { two: number }).two, 2);
  assert.equal(new (mod.A as new () => { g: number })().g, 1);
});

Deno.test("eagerFunctions refuses what is not a module it can parse", () => {
  assert.throws(() => eagerFunctions("function (){"), SyntaxError);
});
