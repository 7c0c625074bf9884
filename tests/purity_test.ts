/**
 * The pure cores (scheduler, worker core, resource parsing and allocation,
 * protocol codec) must not do I/O or read clocks or randomness: they take
 * `now` as a parameter, which is what makes the simulation replayable.
 * This test reads their sources and fails on any such call.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_harness.ts";

/** Files (or folders, non-recursive) that must stay pure, and the few I/O adapters allowed among them. */
const PURE = [
  "lib/scheduler",
  "lib/scheduler/sim",
  "lib/resources",
  "lib/worker/core.ts",
  "lib/worker/lease_watch.ts",
  "lib/worker/lifetime.ts",
  "lib/worker/send_schedule.ts",
  "lib/worker/worker_end.ts",
  "lib/fsproto/codec.ts",
  "lib/fsproto/messages.ts",
  "lib/fsproto/framing.ts",
  "lib/server/round.ts",
  "lib/server/client_requests.ts",
  "lib/server/queries.ts",
  "lib/server/debug_dump.ts",
];
const ADAPTERS = new Set(["lib/resources/detect_host.ts"]);
const FORBIDDEN: [RegExp, string][] = [
  [/\bDeno\.(?!errors\b)[a-zA-Z]+/, "Deno API"],
  [/\b(setTimeout|setInterval|queueMicrotask)\s*\(/, "timer"],
  [/\bMath\.random\b/, "Math.random"],
  [/\bDate\.now\b|\bnew Date\(\s*\)/, "clock read"],
  [/\bperformance\.now\b/, "clock read"],
  [/from\s+"(node:fs|node:child_process|lmdb)[^"]*"/, "I/O import"],
];

async function sources(): Promise<string[]> {
  const files: string[] = [];
  for (const entry of PURE) {
    const path = join(ROOT, entry);
    if (entry.endsWith(".ts")) {
      files.push(entry);
      continue;
    }
    for await (const e of Deno.readDir(path)) {
      if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        files.push(`${entry}/${e.name}`);
      }
    }
  }
  return files.filter((f) => !ADAPTERS.has(f)).sort();
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

Deno.test("pure cores do no I/O and read no clock or randomness", async () => {
  const files = await sources();
  assert.ok(files.length > 20, `found only ${files.length} files`);
  const problems: string[] = [];
  for (const file of files) {
    const lines = stripComments(await Deno.readTextFile(join(ROOT, file))).split("\n");
    lines.forEach((line, i) => {
      for (const [re, what] of FORBIDDEN) {
        if (re.test(line)) problems.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(problems, []);
});
