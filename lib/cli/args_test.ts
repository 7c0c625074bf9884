import assert from "node:assert/strict";
import {
  type CommandSpec,
  type OptionSpec,
  parseCommandLine,
  type Parsed,
  UsageError,
} from "./args.ts";
import { argList, argString, optCount, optFlag, optList, optString } from "./parsed_values.ts";
import { firstPositional } from "./globals.ts";

const GLOBALS: OptionSpec[] = [
  { long: "server-dir", value: "SERVER_DIR", env: "HQ_SERVER_DIR", help: "" },
  {
    long: "output-mode",
    value: "OUTPUT_MODE",
    choices: ["cli", "json", "quiet"],
    default: "cli",
    env: "HQ_OUTPUT_MODE",
    help: "",
  },
  { long: "debug", env: "HQ_DEBUG", help: "" },
];

const TREE: CommandSpec = {
  name: "hq",
  about: "",
  subcommands: [
    {
      name: "job",
      about: "",
      subcommands: [
        {
          name: "list",
          about: "",
          options: [
            { long: "all", conflicts: ["filter"], help: "" },
            { long: "filter", value: "FILTER", multiple: true, help: "" },
          ],
          run: "job list",
        },
        {
          name: "info",
          about: "",
          args: [{ name: "SELECTOR", required: true, help: "" }],
          run: "job info",
        },
      ],
    },
    {
      name: "submit",
      about: "",
      options: [
        { long: "cpus", value: "CPUS", help: "" },
        { long: "priority", value: "PRIORITY", default: "0", help: "" },
        { long: "wait", help: "" },
        {
          long: "time-limit",
          short: "t",
          value: "TIME_LIMIT",
          check: (v) => {
            if (!/^\d+s$/.test(v)) throw new SyntaxError(`bad duration "${v}"`);
          },
          help: "",
        },
      ],
      args: [{ name: "COMMANDS", required: true, trailing: true, help: "" }],
      run: "submit",
    },
    {
      name: "task",
      about: "",
      subcommands: [{
        name: "list",
        about: "",
        options: [{ long: "verbose", short: "v", count: true, help: "" }],
        args: [{ name: "JOB", required: true, help: "" }],
        run: "task list",
      }],
    },
    {
      name: "deploy",
      about: "",
      args: [
        { name: "HOSTFILE", required: true, help: "" },
        { name: "ARGS", trailing: true, hyphenValues: true, help: "" },
      ],
      run: "deploy",
    },
  ],
};

function parse(argv: string[], env: Record<string, string> = {}): Parsed & { run: unknown } {
  const out = parseCommandLine(TREE, argv, { globals: GLOBALS, env: (n) => env[n] });
  assert.equal(out.kind, "run");
  if (out.kind !== "run") throw new Error("unreachable");
  return { ...out.parsed, run: out.command.run };
}

function usageError(argv: string[]): string {
  try {
    parseCommandLine(TREE, argv, { globals: GLOBALS });
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.exitCode, 2);
    return e.message;
  }
  assert.fail(`expected a usage error for ${argv.join(" ")}`);
}

Deno.test("parseCommandLine() accepts global options before, between and after subcommands", () => {
  const forms = [
    ["--server-dir", "/d", "--output-mode", "json", "job", "list"],
    ["job", "--server-dir", "/d", "list", "--output-mode", "json"],
    ["job", "list", "--server-dir", "/d", "--output-mode", "json"],
    ["--server-dir=/d", "job", "list", "--output-mode=json"],
    ["job", "--output-mode=json", "list", "--server-dir=/d"],
  ];
  for (const argv of forms) {
    const p = parse(argv);
    assert.equal(p.run, "job list", argv.join(" "));
    assert.equal(optString(p, "server-dir"), "/d", argv.join(" "));
    assert.equal(optString(p, "output-mode"), "json", argv.join(" "));
  }
});

Deno.test("parseCommandLine() lets the deepest occurrence of a global option win", () => {
  const p = parse(["--output-mode", "quiet", "job", "list", "--output-mode", "json"]);
  assert.equal(optString(p, "output-mode"), "json");
});

Deno.test("parseCommandLine() reads env variables and defaults below the command line", () => {
  assert.equal(optString(parse(["job", "list"]), "output-mode"), "cli");
  const env = { HQ_OUTPUT_MODE: "quiet", HQ_SERVER_DIR: "/e", HQ_DEBUG: "1" };
  const p = parse(["job", "list"], env);
  assert.equal(optString(p, "output-mode"), "quiet");
  assert.equal(optString(p, "server-dir"), "/e");
  assert.equal(optFlag(p, "debug"), true);
  assert.equal(
    optString(parse(["job", "list", "--output-mode", "json"], env), "output-mode"),
    "json",
  );
  assert.equal(optFlag(parse(["job", "list"], { HQ_DEBUG: "0" }), "debug"), false);
});

Deno.test("parseCommandLine() takes everything after the first command word literally", () => {
  const p = parse(["submit", "--cpus", "2", "--", "./prog", "--flag", "--", "x"]);
  assert.deepEqual(argList(p, "COMMANDS"), ["./prog", "--flag", "--", "x"]);
  assert.equal(optString(p, "cpus"), "2");
  const q = parse(["submit", "ls", "--output-mode", "json", "--cpus", "3"]);
  assert.deepEqual(argList(q, "COMMANDS"), ["ls", "--output-mode", "json", "--cpus", "3"]);
  assert.equal(optString(q, "output-mode"), "cli");
  assert.equal(optString(q, "cpus"), undefined);
  const r = parse(["--output-mode", "json", "submit", "--output-mode=quiet", "--", "ls"]);
  assert.equal(optString(r, "output-mode"), "quiet");
  assert.deepEqual(argList(r, "COMMANDS"), ["ls"]);
});

Deno.test("parseCommandLine() accepts short options, attached values and negative numbers", () => {
  assert.equal(optString(parse(["submit", "-t", "5s", "ls"]), "time-limit"), "5s");
  assert.equal(optString(parse(["submit", "-t5s", "ls"]), "time-limit"), "5s");
  assert.equal(optString(parse(["submit", "-t=5s", "ls"]), "time-limit"), "5s");
  assert.equal(optString(parse(["submit", "--priority", "-3", "ls"]), "priority"), "-3");
  assert.equal(optString(parse(["submit", "--priority=-3", "ls"]), "priority"), "-3");
  assert.equal(optString(parse(["submit", "ls"]), "priority"), "0");
  assert.equal(optCount(parse(["task", "list", "1", "-vv"]), "verbose"), 2);
  assert.equal(optCount(parse(["task", "list", "-v", "1"]), "verbose"), 1);
  assert.equal(optCount(parse(["task", "list", "1"]), "verbose"), 0);
});

Deno.test("parseCommandLine() collects repeated options and positional arguments", () => {
  const p = parse(["job", "list", "--filter", "running", "--filter=failed"]);
  assert.deepEqual(optList(p, "filter"), ["running", "failed"]);
  assert.equal(argString(parse(["job", "info", "last"]), "SELECTOR"), "last");
  const d = parse(["deploy", "hosts.txt", "--cpus", "4", "--debug"]);
  assert.deepEqual(argList(d, "ARGS"), ["--cpus", "4", "--debug"]);
  assert.equal(optFlag(d, "debug"), false);
  const e = parse(["deploy", "--debug", "hosts.txt"]);
  assert.equal(optFlag(e, "debug"), true);
  assert.deepEqual(argList(e, "ARGS"), []);
});

Deno.test("parseCommandLine() reports bad input in clap's words", () => {
  assert.equal(usageError(["job", "list", "--foo"]), "unexpected argument '--foo' found");
  assert.equal(usageError(["jobs"]), "unrecognized subcommand 'jobs'");
  assert.match(usageError(["job"]), /^'hq job' requires a subcommand but one was not provided/);
  assert.equal(
    usageError(["submit"]),
    "the following required arguments were not provided: <COMMANDS>...",
  );
  assert.equal(
    usageError(["--output-mode", "xml", "job", "list"]),
    "invalid value 'xml' for '--output-mode <OUTPUT_MODE>' [possible values: cli, json, quiet]",
  );
  assert.equal(
    usageError(["submit", "--time-limit", "5x", "ls"]),
    `invalid value '5x' for '--time-limit <TIME_LIMIT>': bad duration "5x"`,
  );
  assert.equal(
    usageError(["submit", "--wait=true", "ls"]),
    "unexpected value 'true' for '--wait' found; no more were expected",
  );
  assert.equal(
    usageError(["submit", "--cpus", "1", "--cpus", "2", "ls"]),
    "the argument '--cpus <CPUS>' cannot be used multiple times",
  );
  assert.equal(
    usageError(["submit", "--cpus"]),
    "a value is required for '--cpus <CPUS>' but none was supplied",
  );
  assert.equal(
    usageError(["submit", "--cpus", "--wait", "ls"]),
    "a value is required for '--cpus <CPUS>' but none was supplied",
  );
  assert.equal(
    usageError(["job", "list", "--all", "--filter", "x"]),
    "the argument '--all' cannot be used with '--filter <FILTER>'",
  );
  assert.equal(usageError(["job", "info", "1", "2"]), "unexpected argument '2' found");
  assert.equal(
    usageError(["job", "list", "--debug", "--debug"]),
    "the argument '--debug' cannot be used multiple times",
  );
});

Deno.test("parseCommandLine() answers --help at any level and --version at the root", () => {
  const help = parseCommandLine(TREE, ["job", "list", "--help"], { globals: GLOBALS });
  assert.equal(help.kind, "help");
  if (help.kind === "help") {
    assert.match(help.text, /Usage: hq job list \[OPTIONS\]/);
    assert.match(help.text, /--filter <FILTER>/);
    assert.match(help.text, /--server-dir <SERVER_DIR>/);
  }
  const inner = parseCommandLine(TREE, ["job", "-h"], { globals: GLOBALS });
  assert.equal(inner.kind, "help");
  if (inner.kind === "help") assert.match(inner.text, /Commands:\n {2}list/);
  assert.equal(
    parseCommandLine(TREE, ["--version"], { globals: GLOBALS, version: true }).kind,
    "version",
  );
  assert.throws(
    () => parseCommandLine(TREE, ["job", "--version"], { globals: GLOBALS, version: true }),
    UsageError,
  );
});

Deno.test("firstPositional() skips global options and their values", () => {
  assert.equal(firstPositional(["--server-dir", "job", "job", "list"], GLOBALS), "job");
  assert.equal(firstPositional(["--server-dir=x", "--debug", "task"], GLOBALS), "task");
  assert.equal(firstPositional(["--debug"], GLOBALS), undefined);
  assert.equal(firstPositional([], GLOBALS), undefined);
});
