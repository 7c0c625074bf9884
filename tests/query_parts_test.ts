/**
 * The umbrella's query parts (`QUERY_PARTS` in `hq.ts`) answer their commands with the very
 * command definitions of their role, so that `hq job list` means the same whichever
 * file answers it, and the umbrella routes to them exactly the commands they have.
 */
import assert from "node:assert/strict";
import { fileFor, QUERY_PARTS } from "../hq.ts";
import { jobCommand } from "../submit.ts";
import { workerCommand } from "../worker.ts";
import { JOB_QUERIES } from "../lib/cli/io/query_jobs/mod.ts";
import { WORKER_QUERIES } from "../lib/cli/io/query_workers/mod.ts";
import { taskCommand } from "../lib/cli/io/mod.ts";

Deno.test("the job and worker query parts hold their role's own subcommands, as routed", () => {
  const cases = [
    ["job", JOB_QUERIES, jobCommand, "lib/cli/io/query_jobs/mod.ts"],
    ["worker", WORKER_QUERIES, workerCommand, "lib/cli/io/query_workers/mod.ts"],
  ] as const;
  for (const [word, part, role, path] of cases) {
    const routed = QUERY_PARTS[word]!;
    assert.equal(routed.part, path);
    assert.deepEqual(routed.subcommands, part.subcommands!.map((c) => c.name));
    for (const sub of part.subcommands!) {
      assert.ok(role.subcommands!.includes(sub), `${word} ${sub.name} is the role's definition`);
      assert.equal(fileFor([word, sub.name]), path);
    }
    assert.equal(part.name, role.name);
    assert.equal(part.about, role.about);
  }
});

Deno.test("the task part answers every task subcommand with the role's tree", async () => {
  const routed = QUERY_PARTS.task!;
  assert.equal(routed.subcommands, "all");
  const { hqMain } = await import(`../${routed.part}`);
  assert.equal(typeof hqMain, "function");
  for (const sub of taskCommand.subcommands!) {
    assert.equal(fileFor(["task", sub.name]), routed.part);
  }
});

Deno.test("fileFor() routes only plain query command lines to the parts", () => {
  const jobs = "lib/cli/io/query_jobs/mod.ts";
  assert.equal(fileFor(["job", "list"]), jobs);
  assert.equal(fileFor(["--server-dir=/srv", "--output-mode", "json", "job", "info", "3"]), jobs);
  assert.equal(fileFor(["job", "--debug", "summary"]), jobs);
  assert.equal(fileFor(["task", "list", "1"]), "lib/cli/io/query_tasks/mod.ts");
  // Everything else goes to the role file, whose parser knows the whole tree.
  for (
    const argv of [
      ["job", "cancel", "1"],
      ["job"],
      ["job", "list", "-h"],
      ["job", "info", "1", "--version"],
      ["job", "--bogus", "list"],
      ["--", "job", "list"],
      ["task"],
      ["submit", "--", "job", "list"],
      [],
    ]
  ) {
    assert.equal(fileFor(argv), "submit.ts", argv.join(" "));
  }
  assert.equal(fileFor(["worker", "stop", "1"]), "worker.ts");
  assert.equal(fileFor(["server", "info"]), "server.ts");
});
