import assert from "node:assert/strict";
import {
  applyDirectives,
  DIRECTIVES_MAX_BYTES,
  mergeDirectiveFlags,
  prepareSubmit,
  scanScriptHeader,
  splitDirectiveWords,
  type SubmitIo,
} from "./directives.ts";
import { durationArg, idSetArg, intArg, lastOrIdsArg } from "./arg_checks.ts";
import type { OptionSpec } from "./args.ts";
import { UsageError } from "./args.ts";
import { LARGE_INPUT_FILE_BYTES } from "./task_inputs.ts";

/** `hq submit`'s options as the directive parser sees them (a subset of SUBMIT_OPTIONS). */
const SPECS: readonly OptionSpec[] = [
  { long: "name", value: "NAME", help: "" },
  { long: "max-fails", value: "MAX_FAILS", help: "" },
  { long: "nodes", value: "NODES", default: "0", conflicts: ["cpus", "pin"], help: "" },
  { long: "cpus", value: "CPUS", help: "" },
  { long: "resource", value: "RESOURCE", multiple: true, help: "" },
  { long: "time-limit", value: "TIME_LIMIT", check: durationArg, help: "" },
  { long: "stdout", value: "STDOUT", help: "" },
  { long: "env", value: "ENV", multiple: true, help: "" },
  { long: "array", value: "ARRAY", check: idSetArg, help: "" },
  { long: "priority", value: "PRIORITY", default: "0", help: "" },
  { long: "crash-limit", value: "CRASH_LIMIT", default: "5", help: "" },
  { long: "wait", conflicts: ["progress"], help: "" },
  { long: "progress", help: "" },
  { long: "each-line", value: "EACH_LINE", help: "" },
  { long: "from-json", value: "FROM_JSON", conflicts: ["each-line"], help: "" },
  { long: "stdin", help: "" },
  { long: "task-dir", help: "" },
  { long: "job", value: "JOB", check: intArg(1), help: "" },
  { long: "after", value: "AFTER", check: lastOrIdsArg, help: "" },
  { long: "stream", value: "STREAM", help: "" },
  {
    long: "directives",
    value: "DIRECTIVES",
    choices: ["auto", "file", "stdin", "off"],
    default: "auto",
    help: "",
  },
];

const apply = (script: string, cli = {}) =>
  applyDirectives(cli, script, { optionSpecs: SPECS, file: "job.sh" });

/** A reader over in-memory files that records what it was asked for. */
function memoryIo(files: Record<string, string | Uint8Array>, stdin = ""): SubmitIo & {
  reads: [string, number | undefined][];
} {
  const reads: [string, number | undefined][] = [];
  return {
    reads,
    readFile(path, maxBytes) {
      reads.push([path, maxBytes]);
      const data = files[path];
      if (data === undefined) {
        return Promise.reject(new Deno.errors.NotFound(`No such file or directory: ${path}`));
      }
      const all = typeof data === "string" ? new TextEncoder().encode(data) : data;
      return Promise.resolve(maxBytes === undefined ? all : all.subarray(0, maxBytes));
    },
    readStdin: () => Promise.resolve(new TextEncoder().encode(stdin)),
  };
}

const prepare = (flags: object, command: string[], io: SubmitIo) =>
  prepareSubmit(flags, command, { submitDir: "/home/u", io, optionSpecs: SPECS });

Deno.test("scanScriptHeader() reads #HQ lines only before the first command", () => {
  const script = [
    "#!/bin/bash",
    "",
    "# comment",
    "#HQ --name a",
    "   ",
    "\t#HQ --cpus 2   ",
    "#HQ",
    "#HQ   ",
    "#HQx --no",
    "echo start",
    "#HQ --ignored",
  ].join("\n");
  assert.deepEqual(scanScriptHeader(script), {
    directives: ["--name a", "--cpus 2"],
    shebang: "/bin/bash",
  });
  assert.deepEqual(scanScriptHeader("echo hi\n#HQ --name a\n").directives, []);
  assert.deepEqual(scanScriptHeader("#HQ --name a\r\n#HQ --cpus 1\r\nrun\r\n").directives, [
    "--name a",
    "--cpus 1",
  ]);
  assert.equal(scanScriptHeader("# x\n#!/bin/sh\n").shebang, null, "a shebang is the first line");
  assert.deepEqual(scanScriptHeader(""), { directives: [], shebang: null });
});

Deno.test("scanScriptHeader() reads only the first 32 KiB", () => {
  const pad = (n: number) => `#${"x".repeat(n - 2)}\n`; // a comment line of n bytes
  const within = pad(DIRECTIVES_MAX_BYTES - 20) + "#HQ --name ok\n";
  assert.equal(new TextEncoder().encode(within).length, DIRECTIVES_MAX_BYTES - 6);
  assert.deepEqual(scanScriptHeader(within).directives, ["--name ok"]);
  const beyond = pad(DIRECTIVES_MAX_BYTES) + "#HQ --name late\n";
  assert.deepEqual(scanScriptHeader(beyond).directives, []);
  // A directive cut by the limit keeps what fits.
  const cut = pad(DIRECTIVES_MAX_BYTES - 12) + "#HQ --name abcdef\n";
  assert.deepEqual(scanScriptHeader(cut).directives, ["--name a"]);
});

Deno.test("splitDirectiveWords() splits like a shell", () => {
  const cases: [string, string[]][] = [
    ["one two\t  three", ["one", "two", "three"]],
    ['--cpus="2 compact"', ["--cpus=2 compact"]],
    [`--name "let's go" --pin`, ["--name", "let's go", "--pin"]],
    [`--name 'say "hi"'`, ["--name", 'say "hi"']],
    [`"a \\"b\\" \\\\ c"`, ['a "b" \\ c']],
    ['a\\ b c\\"d', ["a b", 'c"d']],
    ['x"" ""', ["x", ""]],
    ["", []],
  ];
  for (const [text, words] of cases) assert.deepEqual(splitDirectiveWords(text), words, text);
  assert.throws(() => splitDirectiveWords("--name 'x"), /unterminated single quote/);
  assert.throws(() => splitDirectiveWords('--name "x\\"'), /unterminated double quote/);
});

Deno.test("applyDirectives() joins the #HQ lines and parses them with the option specs", () => {
  const { flags, shebang } = apply(
    '#HQ --name "my job" --cpus=2\n#HQ --resource gpus=1 --env A=1\n#HQ --time-limit 1h --task-dir\n',
  );
  assert.deepEqual(flags, {
    name: "my job",
    cpus: "2",
    timeLimit: "1h",
    taskDir: true,
    resource: ["gpus=1"],
    env: ["A=1"],
  });
  assert.equal(shebang, null);
});

Deno.test("applyDirectives() lets the command line win single values and merges lists", () => {
  const script = "#HQ --cpus 2 --name script --priority 5 --resource gpus=1 --env A=script\n" +
    "#HQ --env B=2 --each-line lines.txt --task-dir\n";
  const { flags } = apply(script, {
    cpus: "4",
    resource: ["mem=100"],
    env: ["A=cli"],
    array: "1-3",
  });
  assert.deepEqual(flags, {
    cpus: "4",
    name: "script",
    priority: "5",
    taskDir: true,
    array: "1-3",
    eachLine: "lines.txt",
    resource: ["gpus=1", "mem=100"],
    env: ["A=script", "B=2", "A=cli"],
  });
  // The file comes from the directives unless the command line names one; --array apart.
  assert.deepEqual(apply(script, { cpus: "4" }).flags.eachLine, "lines.txt");
  const files = apply("#HQ --each-line a.txt --array 1-9\n", { fromJson: "x.json" }).flags;
  assert.deepEqual([files.eachLine, files.fromJson, files.array], [undefined, "x.json", "1-9"]);
});

Deno.test("mergeDirectiveFlags() lets directives set what the command line left at its default", () => {
  // Defaults never reach the flags (submitFlags drops them), so a directive sets them.
  const { flags } = apply("#HQ --nodes 2 --crash-limit 3\n", { priority: "1" });
  assert.deepEqual(flags, { nodes: "2", crashLimit: "3", priority: "1", resource: [], env: [] });
  assert.deepEqual(mergeDirectiveFlags({}, {}), { resource: [], env: [] });
});

Deno.test("applyDirectives() reports bad directives in one line naming the script", () => {
  const cases: [string, string][] = [
    ["#HQ --bogus 1\n", "unexpected argument '--bogus' found"],
    ["#HQ --wait\n", "unexpected argument '--wait' found"],
    ["#HQ --stdin\n", "unexpected argument '--stdin' found"],
    ["#HQ --job 3\n", "unexpected argument '--job' found"],
    ["#HQ --directives off\n", "unexpected argument '--directives' found"],
    ["#HQ --help\n", "unexpected argument '--help' found"],
    ["#HQ ./program\n", "unexpected argument './program' found"],
    ["#HQ --name\n", "a value is required for '--name <NAME>' but none was supplied"],
    ["#HQ --name a\n#HQ --name b\n", "the argument '--name <NAME>' cannot be used multiple times"],
    ["#HQ --time-limit 5x\n", "invalid value '5x' for '--time-limit <TIME_LIMIT>'"],
    ["#HQ --nodes 2 --cpus 1\n", "the argument '--nodes <NODES>' cannot be used with"],
    ["#HQ --each-line a --from-json b\n", "the argument '--from-json <FROM_JSON>' cannot be"],
    ["#HQ --name 'unclosed\n", "unterminated single quote"],
    ['#!/bin/sh "x\n#HQ --name a\n', "Cannot parse shebang line"],
  ];
  for (const [script, part] of cases) {
    assert.throws(
      () => apply(script),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message.startsWith('Could not parse directives from "job.sh": ') &&
        e.message.includes(part) && !e.message.includes("\n"),
      script,
    );
  }
  assert.throws(
    () => applyDirectives({}, "#HQ --bogus\n", { optionSpecs: SPECS }),
    { message: "Could not parse directives from stdin: unexpected argument '--bogus' found" },
  );
});

Deno.test("applyDirectives() returns the shebang's words for a script file only", () => {
  assert.deepEqual(apply("#!/usr/bin/env -S bash -l\n").shebang, [
    "/usr/bin/env",
    "-S",
    "bash",
    "-l",
  ]);
  const fromStdin = applyDirectives({}, "#!/bin/bash\n#HQ --cpus 1\n", { optionSpecs: SPECS });
  assert.equal(fromStdin.shebang, null);
  assert.equal(fromStdin.flags.cpus, "1");
});

Deno.test("prepareSubmit() in auto mode reads directives only from a .sh first word", async () => {
  const io = memoryIo({
    "job.sh": "#!/bin/sh\n#HQ --name from-sh\nrun\n",
    "job": "#HQ --name x\n",
  });
  const sh = await prepare({}, ["job.sh", "arg"], io);
  assert.equal(sh.job.name, "from-sh");
  assert.deepEqual(sh.job.template.program.args, ["/bin/sh", "job.sh", "arg"]);
  assert.deepEqual(io.reads, [["job.sh", DIRECTIVES_MAX_BYTES]]);
  const named = await prepare({ name: "cli" }, ["job.sh"], io);
  assert.equal(named.job.name, "cli");
  const plain = await prepare({}, ["job"], io);
  assert.equal(plain.job.name, "job");
  assert.equal(io.reads.length, 2, "no read for a word without .sh");
  const bare = await prepare({}, ["bare.sh"], memoryIo({ "bare.sh": "#!/bin/bash -l\nrun\n" }));
  assert.equal(bare.job.name, "bash", "the default name comes from the interpreter, as in HQ");
  assert.deepEqual(bare.job.template.program.args, ["/bin/bash", "-l", "bare.sh"]);
  await assert.rejects(prepare({}, ["missing.sh"], io), {
    message: 'Could not parse directives from "missing.sh": No such file or directory: missing.sh',
  });
});

Deno.test("prepareSubmit() modes: file always, off never, stdin from stdin", async () => {
  const io = memoryIo(
    { "run": "#HQ --name from-file\n", "x.sh": "#HQ --name no\n" },
    "#HQ --cpus 3\ndata\n",
  );
  assert.equal((await prepare({ directives: "file" }, ["run"], io)).job.name, "from-file");
  assert.equal((await prepare({ directives: "off" }, ["x.sh"], io)).job.name, "x.sh");
  const fromStdin = await prepare({ directives: "stdin", stdin: true }, ["x.sh", "a"], io);
  assert.equal(fromStdin.job.name, "x.sh");
  assert.equal(fromStdin.job.template.requests[0]!.entries[0]!.amount, 30_000);
  assert.equal(fromStdin.job.template.stdin, "#HQ --cpus 3\ndata\n");
  assert.deepEqual(fromStdin.job.template.program.args, ["x.sh", "a"]);
  await assert.rejects(prepare({ directives: "stdin" }, ["x.sh"], io), {
    name: "UsageError",
    message: "You have to use `--stdin` when you specify `--directives=stdin`.",
  });
  await assert.rejects(prepare({ directives: "never" }, ["x.sh"], io), UsageError);
});

Deno.test("prepareSubmit() keeps the command as given with --stdin", async () => {
  const io = memoryIo({ "job.sh": "#!/bin/bash\n#HQ --cpus 2\n" }, "input");
  const { job } = await prepare({ stdin: true }, ["job.sh"], io);
  assert.deepEqual(job.template.program.args, ["job.sh"]);
  assert.equal(job.template.stdin, "input");
  assert.equal(job.template.requests[0]!.entries[0]!.amount, 20_000);
});

Deno.test("prepareSubmit() reads --each-line and --from-json files, also named by directives", async () => {
  const io = memoryIo({
    "lines.txt": "a\nb\nc\n",
    "items.json": '[{"x": 1}, [2]]',
    "job.sh": "#HQ --each-line lines.txt --array 1-5\n",
  });
  const lines = await prepare({ eachLine: "lines.txt" }, ["cmd"], io);
  assert.deepEqual(lines.job.ids, [{ start: 0, end: 2 }]);
  assert.deepEqual(lines.job.entries, ["a", "b", "c"]);
  const json = await prepare({ fromJson: "items.json", array: "1" }, ["cmd"], io);
  assert.deepEqual(json.job.ids, [{ start: 1, end: 1 }]);
  assert.deepEqual(json.job.entries, ["[2]"]);
  const viaScript = await prepare({}, ["job.sh"], io);
  assert.deepEqual(viaScript.job.entries, ["b", "c"]);
  assert.deepEqual(viaScript.job.ids, [{ start: 1, end: 2 }]);
  await assert.rejects(prepare({ eachLine: "nope.txt" }, ["cmd"], io), {
    message: 'Cannot read the --each-line file "nope.txt": No such file or directory: nope.txt',
  });
  await assert.rejects(prepare({ fromJson: "lines.txt" }, ["cmd"], io), /"lines\.txt"/);
});

Deno.test("prepareSubmit() warns about an input file over 100 MB", async () => {
  const big = new Uint8Array(LARGE_INPUT_FILE_BYTES + 1).fill(0x61);
  const io = memoryIo({ "big.txt": big, "ok.txt": big.subarray(1) });
  const { warnings, job } = await prepare({ eachLine: "big.txt" }, ["cmd"], io);
  assert.deepEqual(warnings, ["Reading file bigger than 100MB"]);
  assert.equal(job.entries!.length, 1);
  assert.deepEqual((await prepare({ eachLine: "ok.txt" }, ["cmd"], io)).warnings, []);
});
