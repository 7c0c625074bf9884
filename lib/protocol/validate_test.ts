import assert from "node:assert/strict";
import { PayloadError, validateJobSubmit } from "./validate.ts";
import type { JobSubmit } from "./messages.ts";

function submit(stream: unknown): unknown {
  const job: JobSubmit = {
    name: "j",
    maxFails: null,
    submitDir: "/h",
    ids: [{ start: 0, end: 0 }],
    template: {
      program: { args: ["true"], env: {}, cwd: "/h", stdout: null, stderr: null },
      requests: [{ entries: [], minTimeMs: 0 }],
      pin: null,
      priority: 0,
      timeLimitMs: null,
      crashLimit: 5,
    },
  };
  if (stream !== undefined) {
    (job.template.program as unknown as Record<string, unknown>).stream = stream;
  }
  return JSON.parse(JSON.stringify(job));
}

Deno.test("validateJobSubmit() accepts a program without or with a valid stream", () => {
  validateJobSubmit(submit(undefined));
  const ok = validateJobSubmit(submit({ dir: "/s", stdout: true, stderr: false }));
  assert.deepEqual(ok.template.program.stream, { dir: "/s", stdout: true, stderr: false });
});

Deno.test("validateJobSubmit() refuses a malformed stream", () => {
  for (const bad of [null, "dir", { dir: "", stdout: true, stderr: true }, { dir: "/s" }]) {
    assert.throws(
      () => validateJobSubmit(submit(bad)),
      new PayloadError(
        "Cannot accept job: stream must be {dir, stdout, stderr} with a non-empty dir",
      ),
    );
  }
});
