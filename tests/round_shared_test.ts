/**
 * The server shell and the simulation must run one and the same round
 * (`serverRound` of `lib/server/round.ts`), so that what the simulation
 * checks is what the server does. This test reads every module of each shell
 * (`lib/server/io/` for the server, `lib/sim/` for the simulation) and fails
 * when:
 *
 * - no module of a shell imports and calls `serverRound`;
 * - a module of a shell imports, at run time, a step of the round itself:
 *   `schedule()`, a reactor (`onSubmit`, `onTaskUpdates`, `onTick`,
 *   `onWorkerLost`, `onWorkerRegistered`, `onWorkerSeen`) or the client
 *   request handler (`handleClientMsg`), or imports a whole module with `*`.
 *
 * Imports go through each folder's `mod.ts`, so the rule is on the names
 * imported, wherever from. Type-only imports are allowed: they run nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ROUND = "lib/server/round.ts";
/** The round's modules: `serverRound` and the steps it is made of. */
const ROUND_MODULES = [ROUND, "lib/server/round_steps.ts"];

/** What a shell must leave to the round. */
const STEPS = [
  "schedule",
  "onSubmit",
  "onTaskUpdates",
  "onTick",
  "onWorkerLost",
  "onWorkerRegistered",
  "onWorkerSeen",
  "handleClientMsg",
];

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"])\/\/.*$/gm, "$1");
}

/** Names a module imports at run time (`*` for a namespace or default import). */
function runtimeNames(text: string): string[] {
  const names: string[] = [];
  const re = /^\s*import\s+(type\s+)?([^;]*?)\s*from\s*"[^"]+"/gm;
  for (const m of stripComments(text).matchAll(re)) {
    if (m[1]) continue;
    const clause = m[2]!;
    const braces = /\{([^}]*)\}/.exec(clause);
    if (/\*/.test(clause) || /^\s*\w+\s*(,|$)/.test(clause)) names.push("*");
    if (!braces) continue;
    for (const part of braces[1]!.split(",")) {
      const n = part.trim();
      if (n !== "" && !n.startsWith("type ")) names.push(n.split(/\s+as\s+/)[0]!);
    }
  }
  return names;
}

/** Why a shell's modules break the rule, and which of them call the round. */
function judge(modules: Map<string, string>): { breaches: string[]; callers: string[] } {
  const breaches: string[] = [];
  const callers: string[] = [];
  for (const [file, text] of modules) {
    const names = runtimeNames(text);
    for (const n of names) {
      if (n === "*") breaches.push(`${file} imports a whole module`);
      else if (STEPS.includes(n)) breaches.push(`${file} imports ${n}`);
    }
    if (names.includes("serverRound") && /\bserverRound\(/.test(stripComments(text))) {
      callers.push(file);
    }
  }
  return { breaches, callers };
}

async function folderModules(folder: string): Promise<Map<string, string>> {
  const modules = new Map<string, string>();
  for await (const e of Deno.readDir(join(ROOT, folder))) {
    if (!e.isFile || !e.name.endsWith(".ts") || e.name.endsWith("_test.ts")) continue;
    modules.set(`${folder}${e.name}`, await Deno.readTextFile(join(ROOT, folder, e.name)));
  }
  return modules;
}

for (const folder of ["lib/server/io/", "lib/sim/"]) {
  Deno.test(`${folder} runs the shared round and no step of it by itself`, async () => {
    const { breaches, callers } = judge(await folderModules(folder));
    assert.ok(callers.length > 0, `no module of ${folder} calls serverRound`);
    assert.deepEqual(breaches, []);
  });
}

Deno.test("the round itself runs the steps: reactors, client requests, schedule()", async () => {
  const names: string[] = [];
  for (const m of ROUND_MODULES) {
    names.push(...runtimeNames(await Deno.readTextFile(join(ROOT, m))));
  }
  for (const step of ["schedule", "onTaskUpdates", "onTick", "handleClientMsg"]) {
    assert.ok(names.includes(step), `${ROUND_MODULES.join(" + ")} do not import ${step}`);
  }
});

Deno.test("the check sees a step imported by a shell module", () => {
  const modules = new Map([
    [
      "lib/sim/x.ts",
      [
        'import { canEverRun, schedule } from "../scheduler/mod.ts";',
        'import type { Outbox } from "../scheduler/mod.ts";',
        'import { type Outbox, onTick } from "../scheduler/mod.ts";',
        'import { serverRound } from "../server/mod.ts";',
        "serverRound(session, inputs, now);",
      ].join("\n"),
    ],
    ["lib/sim/y.ts", 'import * as sched from "../scheduler/mod.ts";\n'],
  ]);
  assert.deepEqual(judge(modules), {
    breaches: [
      "lib/sim/x.ts imports schedule",
      "lib/sim/x.ts imports onTick",
      "lib/sim/y.ts imports a whole module",
    ],
    callers: ["lib/sim/x.ts"],
  });
});
