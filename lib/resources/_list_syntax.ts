/**
 * Private scanner for the bracketed pool syntaxes `[a, b, "quoted, value"]` and `[[0,1],[2,3]]`.
 *
 * @module
 */
import { quote } from "../common/mod.ts";

/** A parsed bracket list: flat values or groups of values; or an error detail. */
export type ListSyntax =
  | { kind: "list"; values: string[] }
  | { kind: "groups"; groups: string[][] }
  | { kind: "error"; detail: string };

class Scanner {
  #text: string;
  pos = 0;
  constructor(text: string) {
    this.#text = text;
  }
  skipSpace(): void {
    while (this.pos < this.#text.length && /\s/.test(this.#text[this.pos]!)) this.pos++;
  }
  peek(): string | undefined {
    return this.#text[this.pos];
  }
  atEnd(): boolean {
    return this.pos >= this.#text.length;
  }
  take(): string {
    return this.#text[this.pos++]!;
  }
}

class ListError extends Error {}

function expect(s: Scanner, ch: string): void {
  s.skipSpace();
  if (s.peek() !== ch) {
    const found = s.atEnd() ? "end of text" : quote(s.peek()!);
    throw new ListError(`expected ${quote(ch)} but found ${found}`);
  }
  s.take();
}

function item(s: Scanner): string {
  s.skipSpace();
  if (s.peek() === '"') {
    s.take();
    let value = "";
    while (!s.atEnd() && s.peek() !== '"') value += s.take();
    if (s.atEnd()) throw new ListError("unterminated quoted value");
    s.take();
    if (value === "") throw new ListError("empty value in list");
    return value;
  }
  let value = "";
  while (!s.atEnd() && !/[,\[\]"]/.test(s.peek()!)) value += s.take();
  value = value.trim();
  if (value === "") throw new ListError("empty value in list");
  return value;
}

function flatList(s: Scanner): string[] {
  expect(s, "[");
  s.skipSpace();
  if (s.peek() === "]") throw new ListError("empty list");
  const values = [item(s)];
  s.skipSpace();
  while (s.peek() === ",") {
    s.take();
    values.push(item(s));
    s.skipSpace();
  }
  expect(s, "]");
  return values;
}

/** Scans a bracketed list or list of lists; the text must start with `[`. */
export function scanList(text: string): ListSyntax {
  const s = new Scanner(text.trim());
  try {
    s.pos = 1;
    s.skipSpace();
    const nested = s.peek() === "[";
    s.pos = 0;
    let result: ListSyntax;
    if (nested) {
      expect(s, "[");
      const groups = [flatList(s)];
      s.skipSpace();
      while (s.peek() === ",") {
        s.take();
        groups.push(flatList(s));
        s.skipSpace();
      }
      expect(s, "]");
      result = { kind: "groups", groups };
    } else {
      result = { kind: "list", values: flatList(s) };
    }
    s.skipSpace();
    if (!s.atEnd()) return { kind: "error", detail: `unexpected text after "]"` };
    return result;
  } catch (e) {
    if (e instanceof ListError) return { kind: "error", detail: e.message };
    throw e;
  }
}
