/**
 * Quoting of user input inside one-line messages: the text as typed, between
 * quote marks, with only the characters that would break the line or the
 * terminal (control characters, line and paragraph separators) escaped.
 *
 * @module
 */

// deno-lint-ignore no-control-regex -- the control characters are what it finds
const CONTROL_REGEXP = /[\x00-\x1f\x7f\x80-\x9f\u2028\u2029]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function escapeOne(ch: string): string {
  return SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * `text` with control characters and line separators escaped as {@link quote} does, without
 * quote marks: for a message that may embed user input it did not quote itself.
 *
 * @example Usage
 * ```ts
 * import { escapeControl } from "./quote.ts";
 * import assert from "node:assert/strict";
 * assert.equal(escapeControl("bad value 'a\nb'"), "bad value 'a\\nb'");
 * ```
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_REGEXP, escapeOne);
}

/**
 * Quotes `text` for an error or log message: `"text"` (or with `mark`), control characters
 * and line separators escaped as in JSON (`\n`, `\u0000`) so the message stays on one line;
 * everything else, quote marks and backslashes included, is shown as typed.
 *
 * @example Usage
 * ```ts
 * import { quote } from "./quote.ts";
 * import assert from "node:assert/strict";
 * assert.equal(quote("1h 5m"), '"1h 5m"');
 * assert.equal(quote("a\nb"), '"a\\nb"');
 * assert.equal(quote("x", "'"), "'x'");
 * ```
 */
export function quote(text: string, mark = '"'): string {
  return `${mark}${escapeControl(text)}${mark}`;
}
