/**
 * Why a task could not start or how it ended, in HyperQueue's words: the
 * `execve` checks the launcher makes before it hands a program to `/bin/sh`,
 * and the texts stored as a failed task's error.
 *
 * @module
 */

/** `ENOENT`: no such file. */
export const ENOENT = 2;
/** `ENOEXEC`: the kernel does not know how to run the file. */
export const ENOEXEC = 8;
/** `EACCES`: not executable. */
export const EACCES = 13;

/** The errors {@link ExecError} carries, by number. */
export type ExecErrno = typeof ENOENT | typeof ENOEXEC | typeof EACCES;

const OS_ERROR_TEXT: Record<ExecErrno, string> = {
  [ENOENT]: "No such file or directory",
  [ENOEXEC]: "Exec format error",
  [EACCES]: "Permission denied",
};

/**
 * A program that `execve` would refuse; the message is Rust's `io::Error`
 * display of the error, e.g. `Permission denied (os error 13)`.
 */
export class ExecError extends Error {
  /** The error number. */
  readonly errno: ExecErrno;

  /** Creates the error for `errno`. */
  constructor(errno: ExecErrno) {
    super(`${OS_ERROR_TEXT[errno]} (os error ${errno})`);
    this.name = "ExecError";
    this.errno = errno;
  }
}

/**
 * A failed task's error as HyperQueue stores it for its generic task errors
 * (spawn failures, exit codes): the text behind `Error: `.
 *
 * @example Usage
 * ```ts
 * import { taskErrorText } from "./exec_errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   taskErrorText("Program terminated with exit code 1."),
 *   "Error: Program terminated with exit code 1.",
 * );
 * ```
 */
export function taskErrorText(message: string): string {
  return `Error: ${message}`;
}

const SIGNAL_NAMES: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
  17: "SIGCHLD",
  18: "SIGCONT",
  19: "SIGSTOP",
};

/** Linux signal numbers of the names Deno reports. */
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/**
 * HyperQueue's text for a program that ended unsuccessfully: its exit code,
 * or -1 and the signal that killed it (names for a common subset, else
 * `unknown`).
 *
 * @example Usage
 * ```ts
 * import { exitStatusText } from "./exec_errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   exitStatusText({ success: false, code: 137, signal: "SIGKILL" }),
 *   "Program terminated with exit code -1. Received signal 9 (SIGKILL).",
 * );
 * ```
 */
export function exitStatusText(status: Deno.CommandStatus): string {
  if (status.signal === null) return `Program terminated with exit code ${status.code}.`;
  // Deno reports a signal death as 128 + the signal number.
  const n = SIGNAL_NUMBERS[status.signal] ?? status.code - 128;
  return `Program terminated with exit code -1. Received signal ${n} (${
    SIGNAL_NAMES[n] ?? "unknown"
  }).`;
}

/**
 * A string as Rust's `{:?}` prints it: in double quotes, with `\`, `"` and
 * control characters escaped.
 *
 * @example Usage
 * ```ts
 * import { rustDebugString } from "./exec_errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(rustDebugString('say "hi"\n'), '"say \\"hi\\"\\n"');
 * ```
 */
export function rustDebugString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 0) out += "\\0";
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

/** A path that is relative and does not start with `.` as its first component (Rust's view). */
function isImplicitPath(path: string): boolean {
  return !path.startsWith("/") && path !== "." && !path.startsWith("./");
}

/** Whether the file name's extension (after its last `.`, not a leading one) is `ext`. */
function hasExtension(path: string, ext: string): boolean {
  const base = path.replace(/\/+$/, "").split("/").at(-1) ?? "";
  const dot = base.lastIndexOf(".");
  return dot > 0 && base.slice(dot + 1) === ext;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * HyperQueue's message for a task whose program cannot be executed: the
 * command line (quoted as Rust's `{:?}`), the OS error, and a hint for a
 * missing program (mentioning `./name` when such a file is in `cwd`) or for a
 * `.sh` script that is not executable.
 *
 * @example Usage
 * ```ts
 * import { cannotExecuteText, ENOENT, ExecError } from "./exec_errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   cannotExecuteText(["foo", "--bar"], new ExecError(ENOENT), "/nonexistent"),
 *   'Cannot execute "foo --bar": No such file or directory (os error 2)\n' +
 *     "The program that you have tried to execute (`foo`) was not found.",
 * );
 * ```
 */
export function cannotExecuteText(args: readonly string[], error: ExecError, cwd: string): string {
  const file = args[0] ?? "";
  let context = "";
  if (error.errno === ENOENT) {
    context = `\nThe program that you have tried to execute (\`${file}\`) was not found.`;
    if (isImplicitPath(file)) {
      const possible = cwd.endsWith("/") ? `${cwd}${file}` : `${cwd}/${file}`;
      if (isFile(possible)) {
        context += `\nThe file \`${possible}\` exists, maybe you have meant \`./${file}\` instead?`;
      }
    }
  } else if (error.errno === EACCES && hasExtension(file, "sh")) {
    context = `\nThe script that you have tried to execute (\`${file}\`) is not executable.` +
      "\nTry making it executable or add a shebang line to it.";
  }
  return `Cannot execute ${rustDebugString(args.join(" "))}: ${error.message}${context}`;
}

/** The {@link ExecError} matching an error thrown by `Deno.Command.spawn`. */
export function spawnErrno(e: unknown): ExecError {
  if (e instanceof ExecError) return e;
  const code = (e as { code?: string }).code;
  if (e instanceof Deno.errors.PermissionDenied || code === "EACCES") return new ExecError(EACCES);
  if (code === "ENOEXEC") return new ExecError(ENOEXEC);
  return new ExecError(ENOENT);
}

let groups: Set<number> | undefined;

/** This process's group ids (primary and supplementary), read once. */
function ownGroups(): Set<number> {
  if (groups) return groups;
  groups = new Set();
  const gid = Deno.gid();
  if (gid !== null) groups.add(gid);
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const line = status.split("\n").find((l) => l.startsWith("Groups:"));
    for (const g of line?.slice("Groups:".length).trim().split(/\s+/) ?? []) {
      if (g !== "") groups.add(Number(g));
    }
  } catch {
    // Only the primary group is known.
  }
  return groups;
}

/** Whether this process may execute a file with these attributes (as `access(X_OK)`). */
export function canExecute(info: Deno.FileInfo): boolean {
  const mode = info.mode;
  if (mode === null) return true;
  const uid = Deno.uid();
  if (uid === 0 || uid === null) return (mode & 0o111) !== 0;
  if (info.uid === uid) return (mode & 0o100) !== 0;
  if (info.gid !== null && ownGroups().has(info.gid)) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/** Bytes of a file the kernel looks at to pick a format (`BINPRM_BUF_SIZE`). */
const HEADER_BYTES = 256;

function readHeader(path: string): Uint8Array {
  const file = Deno.openSync(path, { read: true });
  try {
    const buf = new Uint8Array(HEADER_BYTES);
    let n = 0;
    while (n < buf.length) {
      const got = file.readSync(buf.subarray(n));
      if (got === null || got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    file.close();
  }
}

/** The interpreter named by a `#!` line, or null when the line names none. */
function shebangInterpreter(header: Uint8Array): string | null {
  let i = 2;
  while (i < header.length && (header[i] === 0x20 || header[i] === 0x09)) i++;
  let end = i;
  while (
    end < header.length && header[end] !== 0x20 && header[end] !== 0x09 &&
    header[end] !== 0x0a && header[end] !== 0x00
  ) end++;
  return end > i ? new TextDecoder().decode(header.subarray(i, end)) : null;
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Whether an enabled `binfmt_misc` entry claims the file (by magic bytes or
 * extension). Read only for files that are neither scripts nor ELF binaries.
 */
function binfmtClaims(path: string, header: Uint8Array): boolean {
  const root = "/proc/sys/fs/binfmt_misc";
  let names: string[];
  try {
    if (Deno.readTextFileSync(`${root}/status`).trim() !== "enabled") return false;
    names = [...Deno.readDirSync(root)].map((e) => e.name);
  } catch {
    return false;
  }
  const base = path.split("/").at(-1) ?? "";
  for (const name of names) {
    if (name === "status" || name === "register") continue;
    let text: string;
    try {
      text = Deno.readTextFileSync(`${root}/${name}`);
    } catch {
      continue;
    }
    const lines = text.split("\n");
    if (lines[0]?.trim() !== "enabled") continue;
    const field = (key: string) =>
      lines.find((l) => l.startsWith(key + " "))?.slice(key.length + 1).trim();
    const ext = field("extension");
    if (ext !== undefined) {
      if (base.endsWith(ext.startsWith(".") ? ext : `.${ext}`)) return true;
      continue;
    }
    const magicHex = field("magic");
    if (magicHex === undefined) continue;
    const offset = Number(field("offset") ?? "0");
    const magic = hexBytes(magicHex);
    const maskHex = field("mask");
    const mask = maskHex === undefined ? null : hexBytes(maskHex);
    if (offset + magic.length > header.length) continue;
    let match = true;
    for (let i = 0; i < magic.length && match; i++) {
      const m = mask?.[i] ?? 0xff;
      match = ((header[offset + i]! ^ magic[i]!) & m) === 0;
    }
    if (match) return true;
  }
  return false;
}

/**
 * Checks that the kernel would run the (existing, executable) file: a `#!`
 * line whose interpreter exists (relative to `cwd`), an ELF binary, or a
 * `binfmt_misc` format.
 *
 * @throws {ExecError} `ENOEXEC` for any other file, `ENOENT` or `EACCES` for a
 * missing or non-executable interpreter.
 */
export function checkExecFormat(path: string, cwd: string): void {
  let header: Uint8Array;
  try {
    header = readHeader(path);
  } catch {
    return; // An execute-only binary: execve runs it, the kernel needs no read permission.
  }
  if (header[0] === 0x7f && header[1] === 0x45 && header[2] === 0x4c && header[3] === 0x46) return;
  if (header[0] === 0x23 && header[1] === 0x21) {
    const interpreter = shebangInterpreter(header);
    if (interpreter === null) throw new ExecError(ENOEXEC);
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(interpreter.startsWith("/") ? interpreter : `${cwd}/${interpreter}`);
    } catch {
      throw new ExecError(ENOENT);
    }
    if (!info.isFile || !canExecute(info)) throw new ExecError(EACCES);
    return;
  }
  if (binfmtClaims(path, header)) return;
  throw new ExecError(ENOEXEC);
}
