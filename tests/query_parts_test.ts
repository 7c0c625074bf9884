/**
 * The umbrella's query parts (`QUERY_PARTS` in `hq.ts`) answer their commands with the very
 * command definitions of their role, so that `hq job list` means the same whichever
 * file answers it, and the umbrella routes to them exactly the commands they have.
 */
import assert from "node:assert/strict";
import { QUERY_PARTS, routeFor } from "../hq.ts";
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
      assert.equal(routeFor([word, sub.name]).file, path);
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
    assert.equal(routeFor(["task", sub.name]).file, routed.part);
  }
});

Deno.test("routeFor() routes only plain query command lines to the parts", () => {
  const jobs = "lib/cli/io/query_jobs/mod.ts";
  assert.equal(routeFor(["job", "list"]).file, jobs);
  assert.equal(
    routeFor(["--server-dir=/srv", "--output-mode", "json", "job", "info", "3"]).file,
    jobs,
  );
  assert.equal(routeFor(["job", "--debug", "summary"]).file, jobs);
  assert.equal(routeFor(["task", "list", "1"]).file, "lib/cli/io/query_tasks/mod.ts");
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
    assert.equal(routeFor(argv).file, "submit.ts", argv.join(" "));
  }
  assert.equal(routeFor(["worker", "stop", "1"]).file, "worker.ts");
  assert.equal(routeFor(["server", "info"]).file, "server.ts");
});

Deno.test("only the parts' reading subcommands may start from a bundle not yet checked", () => {
  // A stale bundle may have started a read-only command before the check caught it; the
  // command then runs again from the sources, so it must change nothing. A new subcommand
  // of a part fails here until it is listed as one or the other.
  const readOnly: string[] = [];
  const writes: string[] = [];
  const parts = [
    ["job", JOB_QUERIES],
    ["worker", WORKER_QUERIES],
    ["task", taskCommand],
  ] as const;
  for (const [word, tree] of parts) {
    for (const sub of tree.subcommands!) {
      const route = routeFor([word, sub.name]);
      assert.equal(route.file, QUERY_PARTS[word]!.part);
      (route.readOnly ? readOnly : writes).push(`${word} ${sub.name}`);
    }
  }
  assert.deepEqual(readOnly.sort(), [
    "job info",
    "job list",
    "job summary",
    "job task-ids",
    "task explain",
    "task info",
    "task list",
    "worker info",
    "worker list",
  ]);
  assert.deepEqual(writes, ["task notify"]);
  assert.equal(routeFor(["job", "cancel", "1"]).readOnly, false);
  assert.equal(routeFor(["server", "info"]).readOnly, false);
});
