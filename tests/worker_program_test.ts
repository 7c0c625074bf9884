/**
 * Which worker program allocations start (`workerProgram` in server.ts): a
 * compiled `dist/hq-worker` where one was built, else Deno with the worker
 * role's fresh bundle, else its sources.
 */
import assert from "node:assert/strict";
import { workerProgram } from "../server.ts";

Deno.test("allocations start a compiled dist/hq-worker where one was built, else Deno and worker.ts", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = `${root}/`;
    // No cache, no binary: the sources.
    assert.deepEqual(workerProgram(dir), [Deno.execPath(), "run", "-A", `${dir}worker.ts`]);
    await Deno.mkdir(`${dir}dist`);
    await Deno.writeTextFile(`${dir}dist/hq-worker`, "#!/bin/sh\n", { mode: 0o755 });
    assert.deepEqual(workerProgram(dir), [`${dir}dist/hq-worker`]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
