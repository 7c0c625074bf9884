import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cannotExecuteText,
  checkExecFormat,
  EACCES,
  ENOENT,
  ENOEXEC,
  ExecError,
  exitStatusText,
  rustDebugString,
  taskErrorText,
} from "./exec_errors.ts";
import { resolveProgram } from "./launcher.ts";

Deno.test("exitStatusText() words exit codes and signals as HyperQueue", () => {
  assert.equal(
    exitStatusText({ success: false, code: 1, signal: null }),
    "Program terminated with exit code 1.",
  );
  assert.equal(
    exitStatusText({ success: false, code: 137, signal: "SIGKILL" }),
    "Program terminated with exit code -1. Received signal 9 (SIGKILL).",
  );
  assert.equal(
    exitStatusText({ success: false, code: 130, signal: "SIGINT" }),
    "Program terminated with exit code -1. Received signal 2 (SIGINT).",
  );
  // Outside HyperQueue's short table the name is `unknown`.
  assert.equal(
    exitStatusText({ success: false, code: 159, signal: "SIGSYS" }),
    "Program terminated with exit code -1. Received signal 31 (unknown).",
  );
  assert.equal(taskErrorText("x"), "Error: x");
});

Deno.test("rustDebugString() quotes as Rust's {:?}", () => {
  assert.equal(rustDebugString("foo --bar --baz=5"), '"foo --bar --baz=5"');
  assert.equal(rustDebugString('a "b" \\c'), '"a \\"b\\" \\\\c"');
  assert.equal(rustDebugString("x\ny\tz\r\0"), '"x\\ny\\tz\\r\\0"');
  assert.equal(rustDebugString("bell\x07 ok é"), '"bell\\u{7} ok é"');
  assert.equal(rustDebugString("it's"), '"it\'s"');
});

Deno.test("cannotExecuteText() adds HyperQueue's hints", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["foo", "--bar", "--baz=5"];
    const notFound =
      'Cannot execute "foo --bar --baz=5": No such file or directory (os error 2)\n' +
      "The program that you have tried to execute (`foo`) was not found.";
    assert.equal(cannotExecuteText(args, new ExecError(ENOENT), dir), notFound);
    await Deno.writeTextFile(join(dir, "foo"), "");
    assert.equal(
      cannotExecuteText(args, new ExecError(ENOENT), dir),
      notFound + `\nThe file \`${dir}/foo\` exists, maybe you have meant \`./foo\` instead?`,
    );
    // Only for an implicit path.
    assert.equal(
      cannotExecuteText(["./foo"], new ExecError(ENOENT), dir),
      'Cannot execute "./foo": No such file or directory (os error 2)\n' +
        "The program that you have tried to execute (`./foo`) was not found.",
    );
    assert.equal(
      cannotExecuteText(["./test.sh"], new ExecError(EACCES), dir),
      'Cannot execute "./test.sh": Permission denied (os error 13)\n' +
        "The script that you have tried to execute (`./test.sh`) is not executable.\n" +
        "Try making it executable or add a shebang line to it.",
    );
    assert.equal(
      cannotExecuteText(["./prog", "a"], new ExecError(EACCES), dir),
      'Cannot execute "./prog a": Permission denied (os error 13)',
    );
    assert.equal(
      cannotExecuteText(["./.sh"], new ExecError(EACCES), dir),
      'Cannot execute "./.sh": Permission denied (os error 13)',
    );
    assert.equal(
      cannotExecuteText(["./plain"], new ExecError(ENOEXEC), dir),
      'Cannot execute "./plain": Exec format error (os error 8)',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkExecFormat() and resolveProgram() refuse what execve refuses", async () => {
  const dir = await Deno.makeTempDir();
  const write = async (name: string, text: string, mode: number) => {
    await Deno.writeTextFile(join(dir, name), text);
    await Deno.chmod(join(dir, name), mode);
  };
  try {
    await write("script", "#!/bin/sh\necho hi\n", 0o755);
    await write("spaced", "#!  /bin/sh -e\n", 0o755);
    await write("plain", "echo hi\n", 0o755);
    await write("empty", "", 0o755);
    await write("lost", "#!/nonexistent/interpreter\n", 0o755);
    await write("bare", "#!\n", 0o755);
    await write("data.sh", "#!/bin/sh\n", 0o644);
    checkExecFormat(join(dir, "script"), dir);
    checkExecFormat(join(dir, "spaced"), dir);
    checkExecFormat("/bin/sh", dir); // ELF (or a script on odd systems)
    assert.throws(() => checkExecFormat(join(dir, "plain"), dir), new ExecError(ENOEXEC));
    assert.throws(() => checkExecFormat(join(dir, "empty"), dir), new ExecError(ENOEXEC));
    assert.throws(() => checkExecFormat(join(dir, "bare"), dir), new ExecError(ENOEXEC));
    assert.throws(() => checkExecFormat(join(dir, "lost"), dir), new ExecError(ENOENT));

    assert.equal(resolveProgram("./script", dir, "/bin"), "./script");
    assert.throws(() => resolveProgram("./plain", dir, "/bin"), new ExecError(ENOEXEC));
    assert.throws(() => resolveProgram(".", dir, dir), new ExecError(ENOENT));
    assert.throws(() => resolveProgram("./", dir, "/bin"), new ExecError(EACCES));
    // Even root needs an execute bit.
    assert.throws(() => resolveProgram("./data.sh", dir, "/bin"), new ExecError(EACCES));
    // In PATH, a file without execute permission is skipped, and reported when nothing else fits.
    assert.throws(() => resolveProgram("data.sh", "/", dir), new ExecError(EACCES));
    assert.equal(resolveProgram("script", "/", `/nonexistent:${dir}`), `${dir}/script`);
    assert.throws(() => resolveProgram("plain", "/", dir), new ExecError(ENOEXEC));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
