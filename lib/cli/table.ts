/**
 * ASCII tables in the layout HyperQueue's `cli` output mode uses (crate
 * cli_table): `+`/`-`/`|` borders, one space of padding, columns as wide as
 * their widest cell line (in terminal columns, {@link textWidth}), left-justified
 * unless a column is marked right-justified (header cells never are).
 *
 * A cell's lines are Rust's `str::lines()` of its text: a trailing `\n` adds
 * no line and an empty cell has no line at all, so a row is as tall as its
 * tallest cell and shorter cells are padded with blank lines below.
 *
 * @module
 */

/** Justification of a column's data cells. */
export type Justify = "left" | "right";

/** Options of {@link renderTable}. */
export interface TableOptions {
  /** Justification per column (data cells only); missing columns are left-justified. @default {[]} */
  justify?: readonly Justify[];
}

const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

const ZERO_WIDTH_RANGES: readonly (readonly [number, number])[] = [
  [0x0300, 0x036f],
  [0x200b, 0x200f],
  [0xfe00, 0xfe0f],
];

function inRanges(code: number, ranges: readonly (readonly [number, number])[]): boolean {
  return ranges.some(([low, high]) => code >= low && code <= high);
}

/**
 * Display width of `text` in terminal columns, as the unicode-width crate
 * counts it for common text: East Asian wide characters and emoji take 2,
 * combining marks and zero-width spaces 0, everything else 1.
 *
 * @example Usage
 * ```ts
 * import { textWidth } from "./table.ts";
 * import assert from "node:assert/strict";
 * assert.equal(textWidth("job"), 3);
 * assert.equal(textWidth("日本"), 4);
 * assert.equal(textWidth("e\u0301"), 1); // e + combining acute accent
 * ```
 */
export function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x300) width++;
    else if (inRanges(code, ZERO_WIDTH_RANGES)) continue;
    else width += inRanges(code, WIDE_RANGES) ? 2 : 1;
  }
  return width;
}

function columnCount(rows: readonly (readonly string[])[]): number {
  let count = 0;
  for (const row of rows) count = Math.max(count, row.length);
  return count;
}

/**
 * The lines of a cell as Rust's `str::lines()` splits them: at `\n`, with a
 * `\r` before it dropped, and no final empty line (so `""` has none).
 *
 * @example Usage
 * ```ts
 * import { cellLines } from "./table.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(cellLines("a\r\nb\n"), ["a", "b"]);
 * assert.deepEqual(cellLines(""), []);
 * assert.deepEqual(cellLines("\n"), [""]);
 * ```
 */
export function cellLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  if (text.endsWith("\n")) lines.pop();
  return lines;
}

function columnWidths(rows: readonly (readonly string[])[], columns: number): number[] {
  const widths = new Array<number>(columns).fill(0);
  for (const row of rows) {
    row.forEach((cell, index) => {
      for (const line of cellLines(cell)) {
        widths[index] = Math.max(widths[index]!, textWidth(line));
      }
    });
  }
  return widths;
}

function border(widths: readonly number[]): string {
  return `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
}

function renderRow(
  row: readonly string[],
  widths: readonly number[],
  justify: readonly Justify[],
): string[] {
  const lines = widths.map((_, index) => cellLines(row[index] ?? ""));
  const height = Math.max(0, ...lines.map((l) => l.length));
  const out: string[] = [];
  for (let lineIndex = 0; lineIndex < height; lineIndex++) {
    const cells = widths.map((width, column) => {
      const text = lines[column]![lineIndex] ?? "";
      const fill = " ".repeat(width - textWidth(text));
      return justify[column] === "right" ? ` ${fill}${text} ` : ` ${text}${fill} `;
    });
    out.push(`|${cells.join("|")}|`);
  }
  return out;
}

/**
 * Renders a horizontal table: top border, header row, title separator, data
 * rows (no separators between them), bottom border. As in cli_table, the
 * bottom border follows the last data row, so a table without rows ends
 * with the title separator (three lines). Cells containing `\n` span several
 * lines, with the other cells blank on the continuation lines. Short rows
 * are padded with empty cells. The result has no trailing newline.
 *
 * @example Usage
 * ```ts
 * import { renderTable } from "./table.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   renderTable(["ID", "Name"], [["7", "ls"]], { justify: ["right"] }),
 *   "+----+------+\n| ID | Name |\n+----+------+\n|  7 | ls   |\n+----+------+",
 * );
 * ```
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const all = [header, ...rows];
  const widths = columnWidths(all, columnCount(all));
  const line = border(widths);
  const out = [line, ...renderRow(header, widths, []), line];
  for (const row of rows) out.push(...renderRow(row, widths, options.justify ?? []));
  if (rows.length > 0) out.push(line);
  return out.join("\n");
}

/**
 * Renders a vertical table (as `job info` prints): each row is a name and a
 * value, with a top and a bottom border and no separators between rows.
 * Multi-line values continue with a blank name cell. The result has no
 * trailing newline.
 *
 * @example Usage
 * ```ts
 * import { renderVerticalTable } from "./table.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   renderVerticalTable([["ID", "3"], ["State", "RUNNING (1)\nWAITING (2)"]]),
 *   [
 *     "+-------+-------------+",
 *     "| ID    | 3           |",
 *     "| State | RUNNING (1) |",
 *     "|       | WAITING (2) |",
 *     "+-------+-------------+",
 *   ].join("\n"),
 * );
 * ```
 */
export function renderVerticalTable(rows: readonly (readonly [string, string])[]): string {
  const widths = columnWidths(rows, 2);
  const line = border(widths);
  const out = [line];
  for (const row of rows) out.push(...renderRow(row, widths, []));
  out.push(line);
  return out.join("\n");
}

/**
 * HyperQueue's `truncate_middle`: text of at most `max` UTF-8 bytes is
 * returned as is; longer text keeps its first `ceil((max - 3) / 2)` and last
 * `floor((max - 3) / 2)` characters around `...`. `job list` truncates names
 * to 50.
 *
 * @example Usage
 * ```ts
 * import { truncateMiddle } from "./table.ts";
 * import assert from "node:assert/strict";
 * assert.equal(truncateMiddle("short", 10), "short");
 * assert.equal(truncateMiddle("a-very-long-job-name", 10), "a-ve...ame");
 * ```
 *
 * @throws {RangeError} When `max` is not an integer of at least 3.
 */
export function truncateMiddle(text: string, max: number): string {
  if (!Number.isInteger(max) || max < 3) {
    throw new RangeError(`Cannot truncate text to ${max} characters: the limit must be at least 3`);
  }
  if (new TextEncoder().encode(text).length <= max) return text;
  const points = [...text];
  const keep = max - 3;
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  return `${points.slice(0, head).join("")}...${points.slice(points.length - tail).join("")}`;
}
