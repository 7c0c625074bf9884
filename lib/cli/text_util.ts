/**
 * Small text helpers HyperQueue's outputs use: plurals, byte-length
 * truncation of error messages, command argument wrapping and environment
 * lines.
 *
 * @module
 */

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/**
 * `word` when `n` is 1, else `word` + `s` (HyperQueue's `pluralize`; 0 is plural).
 *
 * @example Usage
 * ```ts
 * import { pluralize } from "./text_util.ts";
 * import assert from "node:assert/strict";
 * assert.equal(`1 ${pluralize("task", 1)}`, "1 task");
 * assert.equal(`0 ${pluralize("task", 0)}`, "0 tasks");
 * ```
 */
export function pluralize(word: string, n: number): string {
  return n === 1 ? word : `${word}s`;
}

/**
 * `one` when `n` is 1, else `many` (HyperQueue's `select_plural`), for irregular plurals.
 *
 * @example Usage
 * ```ts
 * import { selectPlural } from "./text_util.ts";
 * import assert from "node:assert/strict";
 * assert.equal(selectPlural("was", "were", 2), "were");
 * ```
 */
export function selectPlural(one: string, many: string, n: number): string {
  return n === 1 ? one : many;
}

/**
 * HyperQueue's error shortening in `task list`/`task info`: text of at least
 * `max` UTF-8 bytes is cut to its first `max` bytes (backing off to a
 * character boundary) and gets `...` appended.
 *
 * @example Usage
 * ```ts
 * import { truncateError } from "./text_util.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(truncateError("Error: Program terminated", 16), {
 *   text: "Error: Program t...",
 *   truncated: true,
 * });
 * ```
 */
export function truncateError(text: string, max: number): { text: string; truncated: boolean } {
  const bytes = ENCODER.encode(text);
  if (bytes.length < max) return { text, truncated: false };
  let end = max;
  // Continuation bytes (10xxxxxx) cannot start a character.
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return { text: `${DECODER.decode(bytes.subarray(0, end))}...`, truncated: true };
}

function wrapLine(line: string, width: number): string[] {
  const words = line.split(" ").filter((w) => w !== "");
  if (words.length === 0) return [""];
  const out: string[] = [];
  let current = "";
  for (let word of words) {
    while ([...word].length > width) {
      if (current !== "") {
        out.push(current);
        current = "";
      }
      const chars = [...word];
      out.push(chars.slice(0, width).join(""));
      word = chars.slice(width).join("");
    }
    if (current === "") current = word;
    else if ([...current].length + 1 + [...word].length <= width) current += ` ${word}`;
    else {
      out.push(current);
      current = word;
    }
  }
  if (current !== "") out.push(current);
  return out;
}

/**
 * Wraps a command argument for the `Command` row as `textwrap::fill(arg, 80)`
 * does for ordinary text: lines of at most `width` characters broken at
 * spaces, longer words split. Text that fits is returned unchanged.
 * (textwrap's optimal-fit line breaking and hyphen splitting are not
 * reproduced: arguments longer than 80 characters may break differently.)
 *
 * @example Usage
 * ```ts
 * import { wrapText } from "./text_util.ts";
 * import assert from "node:assert/strict";
 * assert.equal(wrapText("run --fast now", 9), "run\n--fast\nnow");
 * assert.equal(wrapText("abcdefgh", 3), "abc\ndef\ngh");
 * assert.equal(wrapText("fits", 80), "fits");
 * ```
 */
export function wrapText(text: string, width = 80): string {
  if (!text.includes("\n") && [...text].length <= width) return text;
  return text.split("\n").flatMap((line) => wrapLine(line, width)).join("\n");
}

/**
 * The `Environment` cell: `K=V` lines sorted by key, leaving out
 * HyperQueue's own `HQ_*` variables.
 *
 * @example Usage
 * ```ts
 * import { environmentLines } from "./text_util.ts";
 * import assert from "node:assert/strict";
 * assert.equal(environmentLines({ B: "2", HQ_JOB_ID: "1", A: "x=y" }), "A=x=y\nB=2");
 * ```
 */
export function environmentLines(env: Readonly<Record<string, string>>): string {
  return Object.keys(env)
    .filter((k) => !k.startsWith("HQ_"))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => `${k}=${env[k]}`)
    .join("\n");
}

/**
 * An output channel as `job info` and `task info` show it: its path, `<None>` when
 * discarded, `<Stream>` when it goes to the job's stream files.
 *
 * @example Usage
 * ```ts
 * import { stdioText } from "./text_util.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stdioText("/w/1.out", false), "/w/1.out");
 * assert.equal(stdioText(null, false), "<None>");
 * assert.equal(stdioText(null, true), "<Stream>");
 * ```
 */
export function stdioText(path: string | null, streamed: boolean | undefined): string {
  return streamed ? "<Stream>" : path === null ? "<None>" : path;
}
