/**
 * The pure cores must not do I/O or read clocks, randomness or the
 * environment: they take `now` as a parameter, which is what makes the
 * simulation replayable. Code that does I/O lives in `io/` folders; every
 * other module of `lib/` is checked, with its imports (`_purity.ts`).
 */
import assert from "node:assert/strict";
import { ROOT } from "./_harness.ts";
import { checkPurity, runtimeImports } from "./_purity.ts";

async function libSources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(`${ROOT}${dir}`)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory && e.name !== "testdata") await walk(path);
      else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        files.set(path, await Deno.readTextFile(`${ROOT}${path}`));
      }
    }
  };
  await walk("lib");
  return files;
}

Deno.test("lib/: modules outside io/ folders do no I/O, directly or through their imports", async () => {
  const files = await libSources();
  assert.ok([...files.keys()].filter((f) => !f.split("/").includes("io")).length > 60);
  assert.deepEqual(checkPurity(files), []);
});

Deno.test("checkPurity() fails a pure module that imports node:fs, an io/ module or does I/O", () => {
  const files = new Map([
    ["lib/a/pure.ts", 'import { b } from "./helper.ts";\nexport const a = b;\n'],
    ["lib/a/helper.ts", 'import { readFileSync } from "node:fs";\nexport const b = 1;\n'],
    ["lib/a/shell_user.ts", 'import { run } from "./io/shell.ts";\nexport const c = run;\n'],
    [
      "lib/a/io/shell.ts",
      'import { open } from "lmdb";\nexport function run() { Deno.exit(0); }\n',
    ],
    ["lib/a/clock.ts", "export function now() {\n  return Date.now();\n}\n"],
    [
      "lib/a/types_only.ts",
      'import type { X } from "./io/shell.ts";\nimport { type Y } from "./io/shell.ts";\n' +
      "/** `Deno.exit()` in a comment is fine. */\nexport type Z = X | Y;\n",
    ],
  ]);
  assert.deepEqual(checkPurity(files), [
    "lib/a/clock.ts:2: clock read: return Date.now();",
    'lib/a/helper.ts: imports "node:fs", which does I/O',
    "lib/a/shell_user.ts: imports lib/a/io/shell.ts, an io/ module",
  ]);
});

Deno.test("runtimeImports() skips type-only imports and finds dynamic ones", () => {
  const text = [
    'import type { A } from "./a.ts";',
    'import { type B, type C } from "./b.ts";',
    'import { type D, e } from "./d.ts";',
    'export * from "./f.ts";',
    'export type { G } from "./g.ts";',
    'const m = await import("./h.ts");',
    'import "./side.ts";',
  ].join("\n");
  assert.deepEqual(runtimeImports(text), ["./d.ts", "./f.ts", "./side.ts", "./h.ts"]);
});
