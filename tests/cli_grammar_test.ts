/**
 * HyperQueue's global options (`--server-dir`, `--output-mode`, `--colors`,
 * `--debug`) work before the subcommand, between subcommands and after them,
 * in `--opt value` and `--opt=value` forms, for every command, through `hq`
 * and through the role files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, ROOT, waitFor } from "./_harness.ts";

const decoder = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(entry: string, args: string[], cwd: string): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, entry), ...args],
    cwd,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * The places a global option can go in `path... args`: before the first
 * command word, between command words, after the last one (space and `=`
 * forms). `globals` are pairs such as `["--output-mode", "json"]`.
 */
function placements(path: string[], args: string[], globals: [string, string][]): string[][] {
  const flat = globals.flat();
  const eq = globals.map(([k, v]) => `${k}=${v}`);
  const forms: string[][] = [
    [...flat, ...path, ...args],
    [...path, ...args, ...eq],
    [...path, ...flat, ...args],
  ];
  for (let i = 1; i < path.length; i++) {
    forms.push([...path.slice(0, i), ...eq, ...path.slice(i), ...args]);
  }
  // Split: one global before, the other after.
  if (globals.length > 1) {
    forms.push([...globals[0]!, ...path, ...args, ...globals.slice(1).flat()]);
  }
  return forms;
}

/** Commands that print one JSON document, with what must be in it. */
function clientCommands(
  sd: string,
): { path: string[]; args: string[]; check: (v: unknown) => void }[] {
  const isArray = (v: unknown) => assert.ok(Array.isArray(v), JSON.stringify(v));
  const isObject = (v: unknown) =>
    assert.ok(typeof v === "object" && v !== null && !Array.isArray(v), JSON.stringify(v));
  return [
    { path: ["server", "info"], args: [], check: (v) => assert.ok((v as { pid?: number }).pid) },
    { path: ["server", "wait"], args: ["--timeout", "5s"], check: isObject },
    { path: ["worker", "list"], args: [], check: isArray },
    { path: ["worker", "info"], args: ["1"], check: isArray },
    { path: ["worker", "address"], args: ["1"], check: () => {} },
    { path: ["worker", "wait"], args: ["1"], check: isObject },
    { path: ["worker", "hwdetect"], args: [], check: isObject },
    { path: ["job", "list"], args: ["--all"], check: isArray },
    { path: ["job", "summary"], args: [], check: isObject },
    { path: ["job", "info"], args: ["1"], check: isArray },
    { path: ["job", "task-ids"], args: ["1"], check: isObject },
    { path: ["job", "wait"], args: ["1"], check: isObject },
    { path: ["job", "cancel"], args: ["1"], check: isObject },
    { path: ["task", "list"], args: ["1"], check: isObject },
    { path: ["task", "info"], args: ["1", "0"], check: isArray },
    { path: ["task", "explain"], args: ["1", "0"], check: isObject },
    {
      path: ["server", "generate-access"],
      args: [join(sd, "..", "access.json"), "--client-port", "1", "--worker-port", "2"],
      check: isObject,
    },
  ];
}

Deno.test("e2e: global options before, between and after every client command", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "1"]);
    await c.waitWorkers(1);
    await c.submit(["--", "true"]);
    await waitFor(() => c.jobFinished(1), 15000, "job 1 finished");
    const globals: [string, string][] = [["--server-dir", c.serverDir], ["--output-mode", "json"]];
    for (const cmd of clientCommands(c.serverDir)) {
      for (const argv of placements(cmd.path, cmd.args, globals)) {
        const r = await run("hq.ts", argv, c.workDir);
        const what = `hq ${argv.join(" ")}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
        assert.equal(r.code, 0, what);
        if (cmd.path[1] === "address") {
          assert.ok(r.stdout.trim().length > 0, what);
          continue;
        }
        cmd.check(JSON.parse(r.stdout));
      }
    }
    // Submit: the command after the first bare word is taken literally.
    for (
      const argv of [
        ["--server-dir", c.serverDir, "--output-mode", "json", "submit", "--", "true"],
        ["submit", "--output-mode=json", "--server-dir", c.serverDir, "true"],
        ["job", "--server-dir", c.serverDir, "submit", "--output-mode", "json", "--", "true"],
        ["--output-mode", "json", "job", "submit", `--server-dir=${c.serverDir}`, "true"],
      ]
    ) {
      const r = await run("hq.ts", argv, c.workDir);
      assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
      assert.equal(typeof JSON.parse(r.stdout).id, "number", r.stdout);
    }
    // --colors and --debug are accepted everywhere too.
    for (
      const argv of [
        ["--colors", "never", "--debug", "job", "list", "--server-dir", c.serverDir],
        ["job", "--colors=always", "list", "--debug", "--server-dir", c.serverDir],
        ["job", "list", "--server-dir", c.serverDir, "--colors", "auto", "--debug"],
      ]
    ) {
      const r = await run("hq.ts", argv, c.workDir);
      assert.equal(r.code, 0, `${argv.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, /\| ID +\| Name/);
    }
    // The role files take the same grammar without the role word.
    const roleForms: [string, string[]][] = [
      ...placements(["info"], [], globals).map((a): [string, string[]] => ["server.ts", a]),
      ...placements(["list"], [], globals).map((a): [string, string[]] => ["worker.ts", a]),
      // submit.ts: the command after `--` (or its first word) takes everything after it.
      ["submit.ts", [...globals.flat(), "--", "true"]],
      ["submit.ts", ["--output-mode=json", "--", "true", `--server-dir=${c.serverDir}`]],
    ];
    for (const [entry, argv] of roleForms) {
      const r = await run(entry, argv, c.workDir);
      if (argv.at(-1)!.startsWith("--server-dir=")) {
        // The trailing --server-dir belongs to the command, so no server is found.
        assert.equal(r.code, 1, `${entry} ${argv.join(" ")}: ${r.stdout}`);
        assert.match(JSON.parse(r.stdout).error, /^No running instance of HQ found/);
        continue;
      }
      assert.equal(r.code, 0, `${entry} ${argv.join(" ")}: ${r.stderr}`);
      JSON.parse(r.stdout);
    }
  });
});

Deno.test("e2e: global options in any place for server start, worker start and stops", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const dirs = [0, 1, 2].map((i) => join(c.root, `sd${i}`));
    const starts = [
      ["--server-dir", dirs[0]!, "server", "start"],
      ["server", `--server-dir=${dirs[1]}`, "start"],
      ["server", "start", "--server-dir", dirs[2]!],
    ];
    const servers = starts.map((argv, i) => {
      const p = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(ROOT, "hq.ts"), ...argv],
        cwd: c.workDir,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      return { p, dir: dirs[i]! };
    });
    try {
      for (const { dir } of servers) {
        await waitFor(
          async () =>
            (await run("hq.ts", ["server", "info", "--server-dir", dir], c.workDir)).code === 0,
          15000,
          `server at ${dir}`,
        );
      }
      const workerForms = [
        ["--server-dir", dirs[0]!, "worker", "start", "--cpus", "1"],
        ["worker", "--server-dir", dirs[0]!, "start", "--cpus", "1"],
        ["worker", "start", "--cpus", "1", `--server-dir=${dirs[0]}`],
      ];
      const workers = workerForms.map((argv) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", join(ROOT, "hq.ts"), ...argv],
          cwd: c.workDir,
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn()
      );
      try {
        await waitFor(
          async () => {
            const r = await run("hq.ts", [
              "--output-mode=json",
              "worker",
              "list",
              "--server-dir",
              dirs[0]!,
            ], c.workDir);
            return r.code === 0 && JSON.parse(r.stdout).length === 3;
          },
          20000,
          "three workers",
        );
        const stops = [
          ["--server-dir", dirs[0]!, "worker", "stop", "1"],
          ["worker", "--server-dir", dirs[0]!, "stop", "2"],
          ["worker", "stop", "3", `--server-dir=${dirs[0]}`],
        ];
        for (const argv of stops) {
          const r = await run("hq.ts", argv, c.workDir);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /INFO Worker \d stopped/);
        }
        for (const w of workers) assert.equal((await w.status).code, 0);
      } finally {
        for (const w of workers) {
          try {
            w.kill("SIGKILL");
          } catch { /* ended */ }
        }
      }
      const serverStops = [
        ["--server-dir", dirs[0]!, "server", "stop"],
        ["server", "--server-dir", dirs[1]!, "stop"],
        ["server", "stop", `--server-dir=${dirs[2]}`],
      ];
      for (const argv of serverStops) {
        const r = await run("hq.ts", argv, c.workDir);
        assert.equal(r.code, 0, r.stderr);
      }
      for (const { p } of servers) assert.equal((await p.status).code, 0);
    } finally {
      for (const { p } of servers) {
        try {
          p.kill("SIGKILL");
        } catch { /* ended */ }
      }
      await Promise.all(servers.map(({ p }) => p.status));
    }
  });
});

Deno.test("e2e: usage errors exit 2 with one line; command errors exit 1", async () => {
  await using c = await Cluster.create();
  const cases: [string[], number, RegExp][] = [
    [["job", "list", "--foo"], 2, /^error: unexpected argument '--foo' found$/],
    [["jobs"], 2, /^error: unrecognized subcommand 'jobs'$/],
    [["--output-mode", "xml", "job", "list"], 2, /^error: invalid value 'xml'/],
    [["submit"], 2, /^error: the following required arguments were not provided/],
    [["job", "list"], 1, /^No running instance of HQ found at "/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = await c.hq(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, pattern);
  }
  const json = await c.hq(["job", "list", "--output-mode", "json"]);
  assert.equal(json.code, 1);
  assert.match(JSON.parse(json.stdout).error, /^No running instance of HQ found/);
});
