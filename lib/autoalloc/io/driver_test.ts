import assert from "node:assert/strict";
import { AutoallocDriver } from "./driver.ts";

Deno.test("the driver refuses to submit when the worker program is missing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const driver = new AutoallocDriver({ onEvent: () => {}, log: () => {} });
    const script = "#!/bin/bash\n/nonexistent/hq-worker start\n";
    const requires = ["/nonexistent/hq-worker"];
    driver.run({ kind: "dryRun", token: 1, manager: "slurm", dir: `${dir}/d`, script, requires });
    driver.run({
      kind: "submit",
      queueId: 1,
      manager: "slurm",
      dir: `${dir}/s`,
      script,
      workerCount: 1,
      requires,
    });
    await driver.idle();
    const events = driver.take();
    const dry = events.find((e) => e.kind === "dryRunDone");
    assert.ok(dry?.kind === "dryRunDone");
    assert.match(dry.error ?? "", /the worker program \/nonexistent\/hq-worker does not exist/);
    const sub = events.find((e) => e.kind === "submitFailed");
    assert.ok(sub?.kind === "submitFailed");
    assert.match(sub.error, /does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
