import assert from "node:assert/strict";
import {
  type ManagerJobStatus,
  ManagerOutputSyntaxError,
  parseQstatJson,
  parseQsubOutput,
  parseSbatchOutput,
  parseScontrolShowJob,
} from "./manager_output.ts";

/** A file of `testdata/<dir>/`; SLURM's are real captures (see `testdata/slurm/README.md`). */
function sample(dir: "slurm" | "pbs", name: string): Promise<string> {
  return Deno.readTextFile(new URL(`./testdata/${dir}/${name}`, import.meta.url));
}

/** The value of `Key=` in a captured record, read with a plain regexp (ids and times vary by run). */
function field(text: string, key: string): string {
  const m = new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(text);
  assert.ok(m !== null, `no ${key}= in the sample`);
  return m[1]!;
}

function assertSyntaxError(fn: () => unknown, command: string, input: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ManagerOutputSyntaxError);
    assert.ok(e instanceof SyntaxError);
    assert.equal(e.name, "ManagerOutputSyntaxError");
    assert.equal(e.command, command);
    assert.equal(e.input, input);
    assert.ok(e.message.startsWith(`Cannot parse ${command} output `), e.message);
    return true;
  });
}

Deno.test("parseSbatchOutput() reads the id of real sbatch and sbatch --parsable output", async () => {
  const plain = await sample("slurm", "sbatch.txt");
  assert.equal(parseSbatchOutput(plain), field(plain.replace("job ", "job="), "job"));
  const parsable = await sample("slurm", "sbatch_parsable.txt");
  assert.equal(parseSbatchOutput(parsable), parsable.trim());
});

Deno.test("parseSbatchOutput() finds the id after banners and accepts id;cluster", () => {
  const banner = [
    "",
    "No reservation for this job",
    "--> Verifying valid submit host (login)...OK",
    "--> Checking available allocation...OK",
    "Submitted batch job 8812345",
    "",
  ].join("\n");
  assert.equal(parseSbatchOutput(banner), "8812345");
  assert.equal(parseSbatchOutput("submitted batch job 77 on cluster c2\n"), "77");
  assert.equal(parseSbatchOutput("123;cluster1\n"), "123");
  assert.equal(parseSbatchOutput("  42  \r\n"), "42");
});

Deno.test("parseSbatchOutput() fails on output without a job id", async () => {
  for (
    const name of [
      "sbatch_unknown_partition.stdout.txt",
      "sbatch_missing_script.stdout.txt",
      "sbatch_invalid_option.stdout.txt",
      "sbatch_invalid_time.stdout.txt",
    ]
  ) {
    const text = await sample("slurm", name);
    assertSyntaxError(() => parseSbatchOutput(text), "sbatch", text);
  }
  for (const bad of ["", "Submitted batch job\n", "Submitted batch job abc", "12 34", "job 12"]) {
    assertSyntaxError(() => parseSbatchOutput(bad), "sbatch", bad);
  }
  assert.throws(
    () => parseSbatchOutput("sbatch: error: oops"),
    {
      name: "ManagerOutputSyntaxError",
      message:
        'Cannot parse sbatch output "sbatch: error: oops": expected "Submitted batch job <id>" or a job id',
    },
  );
});

Deno.test("parseQsubOutput() reads the job id line", async () => {
  assert.equal(parseQsubOutput(await sample("pbs", "qsub_submit.txt")), "4567.pbs-server");
  assert.equal(parseQsubOutput("12\n"), "12");
  assert.equal(
    parseQsubOutput("12[].pbs01.cluster.example.org\n"),
    "12[].pbs01.cluster.example.org",
  );
  assert.equal(parseQsubOutput("qsub: warning: project ignored\n99.srv@other\n"), "99.srv@other");
});

Deno.test("parseQsubOutput() fails on output without a job id", () => {
  for (const bad of ["", "\n", "qsub: Unknown queue", "job.12", "12.srv extra"]) {
    assertSyntaxError(() => parseQsubOutput(bad), "qsub", bad);
  }
});

/** Each real `scontrol show job` capture and the status its one job must have. */
const SCONTROL_SAMPLES: [string, Omit<ManagerJobStatus, "startTime" | "endTime">, {
  start: boolean;
  end: boolean;
}][] = [
  [
    "scontrol_show_job_pending_begin.txt",
    { state: "queued", managerState: "PENDING", reason: "BeginTime" },
    { start: false, end: false },
  ],
  [
    "scontrol_show_job_pending_held.txt",
    { state: "queued", managerState: "PENDING", reason: "JobHeldUser" },
    { start: false, end: false },
  ],
  [
    "scontrol_show_job_pending_resources.txt",
    { state: "queued", managerState: "PENDING", reason: "Resources" },
    { start: false, end: false },
  ],
  [
    "scontrol_show_job_running.txt",
    { state: "running", managerState: "RUNNING" },
    { start: true, end: false },
  ],
  [
    "scontrol_show_job_oneline_running.txt",
    { state: "running", managerState: "RUNNING" },
    { start: true, end: false },
  ],
  [
    "scontrol_show_job_completing_after_scancel.txt",
    { state: "running", managerState: "COMPLETING" },
    { start: true, end: false },
  ],
  [
    "scontrol_show_job_completed.txt",
    { state: "finished", managerState: "COMPLETED", exitCode: 0 },
    { start: true, end: true },
  ],
  [
    "scontrol_show_job_timeout.txt",
    { state: "finished", managerState: "TIMEOUT", exitCode: 0, signal: 15, reason: "TimeLimit" },
    { start: true, end: true },
  ],
  [
    "scontrol_show_job_failed.txt",
    { state: "failed", managerState: "FAILED", exitCode: 1, reason: "NonZeroExitCode" },
    { start: true, end: true },
  ],
  [
    "scontrol_show_job_cancelled_running.txt",
    { state: "failed", managerState: "CANCELLED", exitCode: 0, signal: 15 },
    { start: true, end: true },
  ],
  [
    "scontrol_show_job_cancelled_pending.txt",
    { state: "failed", managerState: "CANCELLED", exitCode: 0, reason: "JobHeldUser" },
    { start: false, end: true },
  ],
];

for (const [name, expected, times] of SCONTROL_SAMPLES) {
  Deno.test(`parseScontrolShowJob() reads the real ${name}`, async () => {
    const text = await sample("slurm", name);
    const parsed = parseScontrolShowJob(text);
    const jobId = field(text, "JobId");
    assert.deepEqual([...parsed.keys()], [jobId]);
    const want: ManagerJobStatus = { ...expected };
    if (times.start) want.startTime = field(text, "StartTime");
    if (times.end) want.endTime = field(text, "EndTime");
    assert.deepEqual(parsed.get(jobId), want);
  });
}

Deno.test("parseScontrolShowJob() reads every record of a real `scontrol show job`", async () => {
  const text = await sample("slurm", "scontrol_show_job_all.txt");
  const parsed = parseScontrolShowJob(text);
  const records = text.split(/\n\s*\n/).filter((r) => r.trim() !== "");
  assert.equal(parsed.size, records.length);
  assert.ok(parsed.size >= 5);
  for (const record of records) {
    const status = parsed.get(field(record, "JobId"));
    assert.ok(status !== undefined);
    assert.equal(status.managerState, field(record, "JobState"));
    const reason = field(record, "Reason");
    assert.equal(status.reason, reason === "None" ? undefined : reason);
  }
  const states = [...parsed.values()].map((s) => `${s.managerState}:${s.state}`);
  assert.ok(states.includes("TIMEOUT:finished"));
  assert.ok(states.includes("COMPLETED:finished"));
  assert.ok(states.includes("FAILED:failed"));
  assert.ok(states.includes("CANCELLED:failed"));
});

Deno.test("parseScontrolShowJob() reads the same fields from one-line and multi-line records", async () => {
  const multi = parseScontrolShowJob(await sample("slurm", "scontrol_show_job_running.txt"));
  const one = parseScontrolShowJob(await sample("slurm", "scontrol_show_job_oneline_running.txt"));
  assert.deepEqual(one, multi);
});

Deno.test("parseScontrolShowJob() gives an empty map for empty output and no jobs", async () => {
  assert.equal(parseScontrolShowJob("").size, 0);
  assert.equal(parseScontrolShowJob("No jobs in the system\n").size, 0);
  for (const call of ["unknown", "two_ids", "comma_ids"]) {
    const stdout = await sample("slurm", `scontrol_show_job_${call}.stdout.txt`);
    assert.equal(parseScontrolShowJob(stdout).size, 0, call);
  }
});

Deno.test("parseScontrolShowJob() keeps spaces in names and paths of multi-line records", () => {
  const text = [
    "JobId=77 JobName=my job=x",
    "   JobState=RUNNING Reason=None Dependency=(null)",
    "   NodeList=cn[01-02]",
    "   StartTime=2024-05-02T10:00:03 EndTime=2024-05-02T11:00:03 Deadline=N/A",
    "   Command=/home/a b/hq-submit.sh --x=1",
    "   WorkDir=/home/a b",
    "   Power=",
    "   ",
    "",
  ].join("\n");
  assert.deepEqual(parseScontrolShowJob(text).get("77"), {
    state: "running",
    managerState: "RUNNING",
    startTime: "2024-05-02T10:00:03",
  });
});

Deno.test("parseScontrolShowJob() maps SLURM's other states", () => {
  const cases: [string, string][] = [
    ["CONFIGURING", "queued"],
    ["REQUEUED", "queued"],
    ["REQUEUE_HOLD", "queued"],
    ["SPECIAL_EXIT", "queued"],
    ["SUSPENDED", "running"],
    ["STOPPED", "running"],
    ["SIGNALING", "running"],
    ["STAGE_OUT", "running"],
    ["NODE_FAIL", "failed"],
    ["OUT_OF_MEMORY", "failed"],
    ["BOOT_FAIL", "failed"],
    ["DEADLINE", "failed"],
    ["PREEMPTED", "failed"],
  ];
  for (const [slurm, state] of cases) {
    const text = `JobId=5 JobName=x\n   JobState=${slurm} Reason=None\n   ExitCode=0:9\n`;
    assert.equal(parseScontrolShowJob(text).get("5")?.state, state, slurm);
  }
  // HyperQueue's minimal form: no NodeList, times kept.
  assert.deepEqual(
    parseScontrolShowJob(
      "JobId=6\nJobState=NODE_FAIL\nStartTime=2024-01-01T00:00:00\nEndTime=2024-01-01T01:00:00\n",
    ).get("6"),
    {
      state: "failed",
      managerState: "NODE_FAIL",
      exitCode: null,
      startTime: "2024-01-01T00:00:00",
      endTime: "2024-01-01T01:00:00",
    },
  );
});

Deno.test("parseScontrolShowJob() fails on garbage, missing or unknown states", async () => {
  const errors = [
    await sample("slurm", "scontrol_show_job_unknown.stderr.txt"),
    "hello world",
    "UserId=root(0)\nJobState=RUNNING\n",
    "JobId=1 JobName=x\n   Reason=None\n",
    "JobId=1 JobName=x\n   JobState=DANCING Reason=None\n",
    "JobId= JobName=x\n   JobState=RUNNING\n",
  ];
  for (const text of errors) {
    assertSyntaxError(() => parseScontrolShowJob(text), "scontrol", text);
  }
  assert.throws(
    () => parseScontrolShowJob("JobId=1\nJobState=DANCING\n"),
    { message: /: job 1 has the unknown state "DANCING"$/ },
  );
});

Deno.test("parseQstatJson() reads each OpenPBS sample", async () => {
  const queued = parseQstatJson(await sample("pbs", "qstat_queued.txt"));
  assert.deepEqual([...queued], [["4567.pbs-server", {
    state: "queued",
    managerState: "Q",
    reason: "Not Running: Insufficient amount of resource: ncpus (R: 128 A: 0 T: 2560)",
  }]]);

  const running = parseQstatJson(await sample("pbs", "qstat_running.txt"));
  assert.deepEqual([...running], [["4568.pbs-server", {
    state: "running",
    managerState: "R",
    reason: "Job run at Thu May 02 at 10:00 on (cn001:ncpus=128)+(cn002:ncpus=128)",
    startTime: "Thu May 02 10:00:03 2024",
  }]]);

  const finished = parseQstatJson(await sample("pbs", "qstat_finished.txt"));
  assert.deepEqual([...finished], [["4569.pbs-server", {
    state: "finished",
    managerState: "F",
    exitCode: 0,
    reason: "Job run at Thu May 02 at 10:00 on (cn003:ncpus=128) and finished",
    startTime: "Thu May 02 10:00:11 2024",
    endTime: "Thu May 02 10:47:25 2024",
  }]]);

  assert.equal(parseQstatJson(await sample("pbs", "qstat_no_jobs.txt")).size, 0);
});

Deno.test("parseQstatJson() reads held, killed, walltime-killed, deleted and exiting jobs", async () => {
  const parsed = parseQstatJson(await sample("pbs", "qstat_several.txt"));
  const brief = new Map(
    [...parsed].map(([id, s]) => [id, [s.state, s.managerState, s.exitCode, s.signal]]),
  );
  assert.deepEqual(
    brief,
    new Map([
      ["4570.pbs-server", ["queued", "H", undefined, undefined]],
      ["4571.pbs-server", ["failed", "F", 271, 15]],
      ["4572.pbs-server", ["failed", "F", -29, undefined]],
      ["4573.pbs-server", ["failed", "F", null, undefined]],
      ["4574.pbs-server", ["running", "E", undefined, undefined]],
    ]),
  );
  assert.equal(parsed.get("4573.pbs-server")?.startTime, undefined);
  assert.equal(parsed.get("4573.pbs-server")?.endTime, "Thu May 02 12:01:02 2024");
  assert.equal(parsed.get("4573.pbs-server")?.reason, "Job deleted by alice");
});

Deno.test("parseQstatJson() maps the other PBS states", () => {
  const cases: [string, string][] = [
    ["W", "queued"],
    ["T", "queued"],
    ["B", "running"],
    ["S", "running"],
    ["U", "running"],
    ["X", "failed"],
  ];
  for (const [pbs, state] of cases) {
    const text = JSON.stringify({ Jobs: { "1.s": { job_state: pbs } } });
    assert.equal(parseQstatJson(text).get("1.s")?.state, state, pbs);
  }
  const x = JSON.stringify({ Jobs: { "2[1].s": { job_state: "X", Exit_status: 0 } } });
  assert.equal(parseQstatJson(x).get("2[1].s")?.state, "finished");
});

Deno.test("parseQstatJson() fails on garbage and malformed jobs", () => {
  const errors = [
    "",
    "qstat: Unknown Job Id 12.srv",
    "[]",
    '{"Jobs": []}',
    '{"Jobs": {"1.s": "R"}}',
    '{"Jobs": {"1.s": {"Job_Name": "x"}}}',
    '{"Jobs": {"1.s": {"job_state": "M"}}}',
    '{"Jobs": {"1.s": {"job_state": "Q"}, ',
  ];
  for (const text of errors) {
    assertSyntaxError(() => parseQstatJson(text), "qstat", text);
  }
  assert.throws(
    () => parseQstatJson('{"Jobs": {"1.s": {"job_state": "M"}}}'),
    { message: /: job 1\.s has the unknown job_state "M"$/ },
  );
});

Deno.test("ManagerOutputSyntaxError cuts long input in its message but keeps all of it", () => {
  const long = "x".repeat(1000);
  const e = new ManagerOutputSyntaxError("scontrol", long, "nope");
  assert.equal(e.input, long);
  assert.equal(e.message, `Cannot parse scontrol output "${"x".repeat(300)}...": nope`);
});
