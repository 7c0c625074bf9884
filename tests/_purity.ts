/**
 * The purity rule of `lib/`, as a checker over source texts: code in an `io/`
 * folder may do I/O; every other module is pure — it reads no clock, no
 * randomness, no environment, does no I/O, and imports (at run time) nothing
 * that does. The check follows the runtime imports of every pure module, so
 * a new pure file is covered without being listed anywhere.
 *
 * @module
 */

/** Calls a pure module must not make (comments and strings of doc examples are stripped first). */
const FORBIDDEN: [RegExp, string][] = [
  [/\bDeno\.(?!errors\b)[a-zA-Z]+/, "Deno API"],
  [/\b(setTimeout|setInterval|queueMicrotask)\s*\(/, "timer"],
  [/\bMath\.random\b/, "Math.random"],
  [/\bDate\.now\b|\bnew Date\(\s*\)/, "clock read"],
  [/\bperformance\.now\b/, "clock read"],
  [/\bcrypto\.[a-zA-Z]+/, "randomness"],
  [/\bconsole\.[a-zA-Z]+/, "console output"],
];

/** Packages and built-ins whose import makes a module impure. */
const IMPURE_IMPORT =
  /^(node:(fs|child_process|os|net|process|worker_threads)|lmdb|commander)(\/|$)/;

/** Whether a path (repo-relative, `/`-separated) is in an `io/` folder. */
export function isIoPath(path: string): boolean {
  return path.split("/").includes("io");
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return out.join("/");
}

/**
 * Run-time import specifiers of a module: static imports and re-exports
 * that are not `import type` / `export type`, and literal `import()` calls.
 */
export function runtimeImports(text: string): string[] {
  const code = stripComments(text);
  const specs: string[] = [];
  const stat = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*["']([^"']+)["']/gm;
  for (const m of code.matchAll(stat)) {
    if (m[2]) continue; // type-only
    const clause = m[3]!.trim();
    // `import { type A, type B } from` is type-only too.
    if (/^\{[^}]*\}$/.test(clause)) {
      const names = clause.slice(1, -1).split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (names.length > 0 && names.every((n) => n.startsWith("type "))) continue;
    }
    specs.push(m[4]!);
  }
  for (const m of code.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) specs.push(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) specs.push(m[1]!);
  return specs;
}

/**
 * Checks the pure modules among `files` (repo-relative path to source):
 * returns one line per problem, empty when the rule holds.
 */
export function checkPurity(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const pure = [...files.keys()].filter((f) => !isIoPath(f)).sort();
  for (const file of pure) {
    const text = files.get(file)!;
    const lines = stripComments(text).split("\n");
    lines.forEach((line, i) => {
      for (const [re, what] of FORBIDDEN) {
        if (re.test(line)) problems.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
      }
    });
    const dir = file.split("/").slice(0, -1).join("/");
    for (const spec of runtimeImports(text)) {
      if (IMPURE_IMPORT.test(spec)) {
        problems.push(`${file}: imports "${spec}", which does I/O`);
        continue;
      }
      if (!spec.startsWith(".")) continue;
      const target = normalize(`${dir}/${spec}`);
      if (isIoPath(target)) problems.push(`${file}: imports ${target}, an io/ module`);
      else if (!files.has(target)) {
        problems.push(`${file}: imports ${target}, which is not in lib/`);
      }
    }
  }
  return problems;
}
