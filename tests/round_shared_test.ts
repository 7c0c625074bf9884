/**
 * The server shell and the simulation must run one and the same round
 * (`lib/server/round.ts`), so that what the simulation checks is what the
 * server does. This test follows the static run-time imports of each shell
 * through its own folder (`lib/server/` for `run.ts`, `lib/scheduler/sim/`
 * for the harness), stopping at the round, and fails when:
 *
 * - no module of a shell calls `serverRound`;
 * - a module of a shell imports a step of the round itself: the reactors
 *   (`reactor.ts`, `worker_events.ts`), the client request handler,
 *   `multinode_schedule.ts`, or `schedule()` (the queries `schedule.ts` also
 *   exports, used by the simulation's progress checks, stay allowed).
 *
 * Type-only imports are allowed: they run nothing.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ROUND = "lib/server/round.ts";

/** Modules whose run-time import means a shell runs a step of the round itself. */
const STEP_MODULES = new Set([
  "lib/scheduler/reactor.ts",
  "lib/scheduler/worker_events.ts",
  "lib/scheduler/multinode_schedule.ts",
  "lib/server/client_requests.ts",
]);
/** Names a shell must not import at run time from a module that also exports queries. */
const STEP_NAMES: Record<string, string[]> = { "lib/scheduler/schedule.ts": ["schedule"] };

interface RuntimeImport {
  /** Repository-relative path of the imported module. */
  path: string;
  /** Names imported at run time; null for a whole-module import (`* as`, default, side effect). */
  names: string[] | null;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"])\/\/.*$/gm, "$1");
}

/** The relative run-time imports of a module (type-only ones left out). */
function runtimeImports(file: string, text: string): RuntimeImport[] {
  const found: RuntimeImport[] = [];
  const re =
    /^\s*(?:import|export)\s+(type\s+)?([^;]*?)\s*from\s*"(\.[^"]+)"|import\s*\(\s*"(\.[^"]+)"\s*\)/gm;
  for (const m of stripComments(text).matchAll(re)) {
    const spec = m[3] ?? m[4]!;
    const path = relative(ROOT, normalize(join(ROOT, dirname(file), spec)));
    if (m[1]) continue;
    const clause = m[2] ?? "";
    const braces = /\{([^}]*)\}/.exec(clause);
    if (m[4] !== undefined || !braces || /\*|^\s*\w+\s*,/.test(clause)) {
      found.push({ path, names: null });
      continue;
    }
    const names = braces[1]!.split(",").map((n) => n.trim()).filter((n) =>
      n !== "" && !n.startsWith("type ")
    ).map((n) => n.split(/\s+as\s+/)[0]!);
    if (names.length > 0) found.push({ path, names });
  }
  return found;
}

/** The modules of a shell: `entry` and what it imports at run time inside `folder`, not the round. */
async function shellModules(entry: string, folder: string): Promise<Map<string, RuntimeImport[]>> {
  const modules = new Map<string, RuntimeImport[]>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (modules.has(file)) continue;
    const imports = runtimeImports(file, await Deno.readTextFile(join(ROOT, file)));
    modules.set(file, imports);
    for (const i of imports) {
      if (i.path.startsWith(folder) && i.path !== ROUND) todo.push(i.path);
    }
  }
  return modules;
}

/** Why the modules of a shell break the rule, one line per breach. */
function breaches(modules: Map<string, RuntimeImport[]>): string[] {
  const found: string[] = [];
  for (const [file, imports] of modules) {
    for (const i of imports) {
      if (STEP_MODULES.has(i.path)) found.push(`${file} imports ${i.path}`);
      const banned = STEP_NAMES[i.path] ?? [];
      for (const name of i.names ?? (banned.length > 0 ? ["*"] : [])) {
        if (name === "*" || banned.includes(name)) {
          found.push(`${file} imports ${name} from ${i.path}`);
        }
      }
    }
  }
  return found;
}

function callsRound(modules: Map<string, RuntimeImport[]>): string[] {
  return [...modules].filter(([, imports]) =>
    imports.some((i) => i.path === ROUND && (i.names === null || i.names.includes("serverRound")))
  ).map(([file]) => file);
}

const SHELLS = [
  { entry: "lib/server/run.ts", folder: "lib/server/" },
  { entry: "lib/scheduler/sim/harness.ts", folder: "lib/scheduler/sim/" },
];

for (const { entry, folder } of SHELLS) {
  Deno.test(`${entry} runs the shared round and no step of it by itself`, async () => {
    const modules = await shellModules(entry, folder);
    const callers = callsRound(modules);
    assert.ok(callers.length > 0, `no module of ${entry} imports serverRound from ${ROUND}`);
    for (const file of callers) {
      const text = stripComments(await Deno.readTextFile(join(ROOT, file)));
      assert.match(text, /\bserverRound\(/, `${file} imports serverRound but never calls it`);
    }
    assert.deepEqual(breaches(modules), []);
  });
}

Deno.test("the round itself runs the steps: reactors, client requests, schedule()", async () => {
  const imports = runtimeImports(ROUND, await Deno.readTextFile(join(ROOT, ROUND)));
  const names = (path: string) =>
    imports.filter((i) => i.path === path).flatMap((i) => i.names ?? []);
  assert.ok(names("lib/scheduler/schedule.ts").includes("schedule"));
  assert.ok(names("lib/scheduler/reactor.ts").includes("onTaskUpdates"));
  assert.ok(names("lib/scheduler/worker_events.ts").includes("onTick"));
  assert.ok(names("lib/server/client_requests.ts").includes("handleClientMsg"));
});

Deno.test("the import check sees a step imported by a shell module", () => {
  const modules = new Map([[
    "lib/scheduler/sim/x.ts",
    runtimeImports(
      "lib/scheduler/sim/x.ts",
      [
        'import { schedule, canEverRun } from "../schedule.ts";',
        'import type { Outbox } from "../reactor.ts";',
        'import { type Outbox, onTick } from "../worker_events.ts";',
        'import { serverRound } from "../../server/round.ts";',
      ].join("\n"),
    ),
  ]]);
  assert.deepEqual(breaches(modules), [
    "lib/scheduler/sim/x.ts imports schedule from lib/scheduler/schedule.ts",
    "lib/scheduler/sim/x.ts imports lib/scheduler/worker_events.ts",
  ]);
  assert.deepEqual(callsRound(modules), ["lib/scheduler/sim/x.ts"]);
});
