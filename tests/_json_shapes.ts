/**
 * Shapes of JSON documents, to compare what a real server prints with the
 * golden files of `lib/cli/testdata/golden/`: the key sets (with value types)
 * of the objects at each place of a document.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_harness.ts";

/** The folder of the golden files. */
export const GOLDEN = join(ROOT, "lib", "cli", "testdata", "golden");

/** Key sets of the objects at each place of a document, by place. */
export type Shapes = Map<string, Set<string>>;

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/** Keys whose objects map names the user or the machine chooses (variables, resources). */
const MAP_KEYS = new Set(["env", "worker_resources"]);

/**
 * Key sets (with value types) of the objects at each place: array items
 * share `[]`, numeric keys (job ids) and the entries of a name map (see `MAP_KEYS`) share `*`.
 */
export function shapes(v: unknown, path = "$", out: Shapes = new Map()): Shapes {
  if (Array.isArray(v)) {
    for (const item of v) shapes(item, `${path}[]`, out);
  } else if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    const numeric = entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k));
    if (numeric) {
      for (const [, item] of entries) shapes(item, `${path}.*`, out);
      return out;
    }
    if (MAP_KEYS.has(path.slice(path.lastIndexOf(".") + 1))) {
      // A map's shape is the types of its values, whatever its names.
      if (entries.length > 0 && !out.has(path)) out.set(path, new Set());
      for (const [, x] of entries) out.get(path)!.add(`*:${typeOf(x)}`);
      return out;
    }
    const sig = entries.map(([k, x]) => `${k}:${typeOf(x)}`).sort().join(",");
    let set = out.get(path);
    if (!set) out.set(path, set = new Set());
    set.add(sig);
    for (const [k, x] of entries) shapes(x, `${path}.${k}`, out);
  }
  return out;
}

/** The documents of a JSON Lines text, as one array. */
export function jsonLines(text: string): unknown[] {
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

/**
 * The shapes of golden files, merged: `name` is `name.json`, or a JSON Lines file when it
 * ends with `.jsonl` (its documents as one array).
 */
export async function golden(...names: string[]): Promise<Shapes> {
  const out: Shapes = new Map();
  for (const name of names) {
    const lines = name.endsWith(".jsonl");
    const text = await Deno.readTextFile(join(GOLDEN, lines ? name : `${name}.json`));
    shapes(lines ? jsonLines(text) : JSON.parse(text), "$", out);
  }
  return out;
}

/** Fails unless every object of `real` has a key set that `expected` has at its place. */
export function assertShapesIn(real: unknown, expected: Shapes, what: string): void {
  const got = shapes(real);
  for (const [path, sigs] of got) {
    for (const sig of sigs) {
      assert.ok(
        expected.get(path)?.has(sig),
        `${what}: object at ${path} has keys {${sig}}, which the golden file never has there ` +
          `(golden: ${JSON.stringify([...(expected.get(path) ?? [])])})`,
      );
    }
  }
  assert.ok(got.size > 0 || typeOf(real) !== "object", `${what}: nothing to compare`);
}
