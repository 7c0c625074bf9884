/**
 * POSIX path helpers for code that must load fast: `node:path` pulls in
 * Node's compatibility layer, which costs client commands several
 * milliseconds of start-up. Pure string work, no I/O.
 *
 * @module
 */

/**
 * Normalizes a POSIX path: drops empty and `.` segments and resolves `..`
 * where it can; `""` becomes `"."`.
 *
 * @example Usage
 * ```ts
 * import { normalizePath } from "./path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(normalizePath("/a/./b/../c/"), "/a/c");
 * assert.equal(normalizePath("a/../.."), "..");
 * ```
 */
export function normalizePath(path: string): string {
  const absolute = path.startsWith("/");
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    const last = segments[segments.length - 1];
    if (segment === ".." && last !== undefined && last !== "..") segments.pop();
    else if (segment === ".." && absolute) continue;
    else segments.push(segment);
  }
  const joined = segments.join("/");
  if (absolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/**
 * Joins path segments with `/` and normalizes the result, as `node:path`'s `join` does.
 *
 * @example Usage
 * ```ts
 * import { joinPath } from "./path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(joinPath("/srv/hq", "001", "inbox"), "/srv/hq/001/inbox");
 * ```
 */
export function joinPath(...parts: string[]): string {
  return normalizePath(parts.filter((p) => p !== "").join("/"));
}

/**
 * Resolves `path` against `base`: an absolute `path` stands alone.
 *
 * @example Usage
 * ```ts
 * import { resolvePath } from "./path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(resolvePath("/home/u", "out/../x"), "/home/u/x");
 * assert.equal(resolvePath("/home/u", "/tmp"), "/tmp");
 * ```
 */
export function resolvePath(base: string, path: string): string {
  return normalizePath(path.startsWith("/") ? path : `${base}/${path}`);
}

/**
 * The directory part of a path, taken after normalizing it: `.` for a bare name, `/` at the
 * root.
 *
 * @example Usage
 * ```ts
 * import { dirname } from "./path.ts";
 * import assert from "node:assert/strict";
 * assert.equal(dirname("/a/b/c.txt"), "/a/b");
 * assert.equal(dirname("c.txt"), ".");
 * assert.equal(dirname("/a"), "/");
 * ```
 */
export function dirname(path: string): string {
  const n = normalizePath(path);
  const slash = n.lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : n.slice(0, slash);
}
