/**
 * ASCII tables in the layout HyperQueue's `cli` output mode uses (crate
 * cli_table): `+`/`-`/`|` borders, one space of padding, left-justified
 * columns as wide as their widest cell (counted in Unicode code points).
 *
 * @module
 */

/** Number of Unicode code points in `text` (the width used for alignment). */
export function textWidth(text: string): number {
  let width = 0;
  for (const _ of text) width++;
  return width;
}

function columnCount(rows: readonly (readonly string[])[]): number {
  let count = 0;
  for (const row of rows) count = Math.max(count, row.length);
  return count;
}

function columnWidths(rows: readonly (readonly string[])[], columns: number): number[] {
  const widths = new Array<number>(columns).fill(0);
  for (const row of rows) {
    row.forEach((cell, index) => {
      for (const line of cell.split("\n")) {
        widths[index] = Math.max(widths[index]!, textWidth(line));
      }
    });
  }
  return widths;
}

function border(widths: readonly number[]): string {
  return `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
}

function renderRow(row: readonly string[], widths: readonly number[]): string[] {
  const cellLines = widths.map((_, index) => (row[index] ?? "").split("\n"));
  const height = Math.max(1, ...cellLines.map((lines) => lines.length));
  const out: string[] = [];
  for (let lineIndex = 0; lineIndex < height; lineIndex++) {
    const cells = widths.map((width, column) => {
      const text = cellLines[column]![lineIndex] ?? "";
      return ` ${text}${" ".repeat(width - textWidth(text))} `;
    });
    out.push(`|${cells.join("|")}|`);
  }
  return out;
}

/**
 * Renders a horizontal table: top border, header row, separator, data rows
 * (no separators between them), bottom border. Cells containing `\n` span
 * several lines, with the other cells blank on the continuation lines. Short
 * rows are padded with empty cells. With no data rows the separator is
 * omitted. The result has no trailing newline.
 */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const all = [header, ...rows];
  const widths = columnWidths(all, columnCount(all));
  const line = border(widths);
  const out = [line, ...renderRow(header, widths)];
  if (rows.length > 0) {
    out.push(line);
    for (const row of rows) out.push(...renderRow(row, widths));
  }
  out.push(line);
  return out.join("\n");
}

/**
 * Renders a vertical table (as `job info` prints): each row is a name and a
 * value, with a top and a bottom border and no separators between rows.
 * Multi-line values continue with a blank name cell. The result has no
 * trailing newline.
 */
export function renderVerticalTable(rows: readonly (readonly [string, string])[]): string {
  const widths = columnWidths(rows, 2);
  const line = border(widths);
  const out = [line];
  for (const row of rows) out.push(...renderRow(row, widths));
  out.push(line);
  return out.join("\n");
}

/**
 * Shortens `text` to exactly `max` code points by replacing its middle with
 * `...`, keeping the start (the larger half) and the end; shorter text is
 * returned as is. `job list` truncates names to 50.
 *
 * @throws {RangeError} When `max` is not an integer of at least 3.
 */
export function truncateMiddle(text: string, max: number): string {
  if (!Number.isInteger(max) || max < 3) {
    throw new RangeError(`Cannot truncate text to ${max} characters: the limit must be at least 3`);
  }
  const points = [...text];
  if (points.length <= max) return text;
  const keep = max - 3;
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  return `${points.slice(0, head).join("")}...${points.slice(points.length - tail).join("")}`;
}
