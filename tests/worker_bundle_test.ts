import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

Deno.test("the worker bundles into one self-contained file without LMDB", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/hq-worker.js`;
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--output", out, "tools/worker_entry.ts"],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(bundle.success, new TextDecoder().decode(bundle.stderr));
    const text = await Deno.readTextFile(out);
    assert.ok(
      !/from\s+["']lmdb["']|require\(["']lmdb["']\)/.test(text),
      "bundle must not import lmdb",
    );
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", out, "list", "--server-dir", `${dir}/none`],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 1);
    assert.match(new TextDecoder().decode(run.stderr), /No running instance of HQ found at/);
    // The part that worker.ts loads lazily from the repository is linked in: the copy in a
    // temporary folder detects resources (as `worker start` does) without the sources.
    const detect = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", out, "hwdetect", "--output-mode", "json"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(detect.code, 0, new TextDecoder().decode(detect.stderr));
    const found = JSON.parse(new TextDecoder().decode(detect.stdout));
    assert.ok(found.resources.some((r: { name: string }) => r.name === "cpus"), "cpus detected");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
