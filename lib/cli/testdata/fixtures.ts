// deno-lint-ignore-file camelcase -- the views use HyperQueue's snake_case names
/**
 * Hand-written server views used by the golden tests of the CLI outputs.
 * Times are ms since the epoch around 2026-01-01T00:00:00Z.
 *
 * @module
 */
import {
  type ExplainView,
  JOB_DETAIL_SHOWN,
  type JobDetailView,
  type JobInfoView,
  type TaskDescView,
  type TaskView,
  unpackTaskView,
  type WorkerView,
} from "../../protocol/mod.ts";
import type { ResourcePool } from "../../resources/descriptor.ts";
import type { ServerInfoData } from "../hq_json_workers.ts";

/** 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);
/** The time the outputs are rendered at: T0 + 1h 2m 3.456s. */
export const NOW = T0 + 3_723_456;

const stats = (s: Partial<JobInfoView["task_stats"]>): JobInfoView["task_stats"] => ({
  running: 0,
  finished: 0,
  failed: 0,
  canceled: 0,
  aborted: 0,
  waiting: 0,
  ...s,
});

/** Jobs as `job list` gets them. */
export const JOBS: JobInfoView[] = [
  {
    id: 1,
    name: "echo",
    task_count: 1,
    is_open: false,
    task_stats: stats({ finished: 1 }),
    cancel_reason: null,
  },
  {
    id: 2,
    name: "array",
    task_count: 10,
    is_open: false,
    task_stats: stats({ running: 2, finished: 1, failed: 6, canceled: 1 }),
    cancel_reason: null,
  },
  {
    id: 3,
    name: "a-very-long-job-name-that-goes-on-and-on-and-on-and-on-until-it-ends",
    task_count: 10,
    is_open: false,
    task_stats: stats({ waiting: 10 }),
    cancel_reason: null,
  },
  {
    id: 10,
    name: "stopped",
    task_count: 4,
    is_open: false,
    task_stats: stats({ canceled: 3, finished: 1 }),
    cancel_reason: "not needed",
  },
];

const DEFAULT_DESC: TaskDescView = {
  program: {
    args: ["echo", "tt"],
    env: {},
    cwd: "%{SUBMIT_DIR}",
    stdout: "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout",
    stderr: "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stderr",
  },
  requests: [{
    n_nodes: 0,
    min_time_ms: 0,
    weight: 10000,
    entries: [{ resource: "cpus", amount: 10000, policy: "compact" }],
  }],
  pin_mode: null,
  priority: 0,
  time_limit_ms: null,
  task_dir: false,
  crash_limit: 5,
  stream: null,
};

const paths = (job: number, task: number, instance = 0) => ({
  cwd: "/home/u/work",
  stdout: `/home/u/work/job-${job}/${task}.stdout`,
  stderr: instance === 0 ? `/home/u/work/job-${job}/${task}.stderr` : null,
});

/** What the server sums up of a job's tasks in its `job info` view. */
function withSummary(
  base: Omit<JobDetailView, "workers" | "failed" | "aborted" | "aborted_count">,
  tasks: readonly TaskView[],
): JobDetailView {
  const workers = new Map(tasks.flatMap((t) => t.workers).map((w) => [w.id, w]));
  const aborted = tasks.filter((t) => t.state === "aborted" && t.error !== null);
  return {
    ...base,
    workers: [...workers.values()].sort((a, b) => a.id - b.id),
    failed: tasks.filter((t) => t.state === "failed").slice(0, JOB_DETAIL_SHOWN),
    aborted: aborted.slice(0, JOB_DETAIL_SHOWN),
    aborted_count: aborted.length,
  };
}

/** The one task of job 1. */
export const JOB_ONE_TASKS: TaskView[] = [{
  id: 0,
  state: "finished",
  instance: 0,
  crash_count: 0,
  started_at: T0 + 1_000,
  finished_at: T0 + 5_500,
  workers: [{ id: 1, hostname: "node1" }],
  paths: paths(1, 0),
  error: null,
}];

/** `job info 1`: one finished task. */
export const JOB_ONE: JobDetailView = withSummary({
  info: JOBS[0]!,
  max_fails: null,
  submitted_at: T0 + 123,
  completed_at: T0 + 5_500,
  submits: [{ ids: [{ start: 0, end: 0 }], submit_dir: "/home/u/work", task_desc: DEFAULT_DESC }],
}, JOB_ONE_TASKS);

const LONG_ERROR = `Error: ${"x".repeat(300)}\n[The message was truncated]`;

/** Tasks of job 2: every state, multi-node, errors long and short. */
export const JOB_TWO_TASKS: TaskView[] = [
  {
    id: 0,
    state: "finished",
    instance: 0,
    crash_count: 0,
    started_at: T0 + 2_000,
    finished_at: T0 + 62_111 + 2_000,
    workers: [{ id: 1, hostname: "node1" }],
    paths: paths(2, 0),
    error: null,
  },
  {
    id: 1,
    state: "running",
    instance: 1,
    crash_count: 1,
    started_at: T0 + 3_000,
    finished_at: null,
    workers: [{ id: 2, hostname: "node2" }, { id: 3, hostname: "node3" }],
    paths: paths(2, 1, 1),
    error: null,
  },
  {
    id: 2,
    state: "running",
    instance: 0,
    crash_count: 0,
    started_at: T0 + 4_000,
    finished_at: null,
    workers: [{ id: 7, hostname: null }],
    paths: paths(2, 2),
    error: null,
  },
  {
    id: 3,
    state: "failed",
    instance: 0,
    crash_count: 0,
    started_at: T0 + 5_000,
    finished_at: T0 + 5_025,
    workers: [{ id: 1, hostname: "node1" }],
    paths: paths(2, 3),
    error: "Error: Program terminated with exit code 1.",
  },
  {
    id: 4,
    state: "failed",
    instance: 0,
    crash_count: 0,
    started_at: T0 + 5_000,
    finished_at: T0 + 5_000 + 3_600_000 * 3 + 65_432,
    workers: [{ id: 2, hostname: "node2" }],
    paths: paths(2, 4),
    error: LONG_ERROR,
  },
  {
    id: 5,
    state: "failed",
    instance: 5,
    crash_count: 5,
    started_at: null,
    finished_at: T0 + 9_000,
    workers: [],
    paths: null,
    error:
      "Task was running on a worker that was lost; the task has occurred 5 times in this situation and limit was reached.",
  },
  {
    id: 6,
    state: "failed",
    instance: 0,
    crash_count: 0,
    started_at: T0 + 6_000,
    finished_at: T0 + 6_500,
    workers: [{ id: 1, hostname: "node1" }],
    paths: paths(2, 6),
    error: "Time limit reached",
  },
  {
    id: 7,
    state: "failed",
    instance: 0,
    crash_count: 0,
    started_at: T0 + 6_000,
    finished_at: T0 + 6_001,
    workers: [{ id: 1, hostname: "node1" }],
    paths: paths(2, 7),
    error: "Error: Program terminated with exit code -1. Received signal 9 (SIGKILL).",
  },
  {
    id: 8,
    state: "failed",
    instance: 0,
    crash_count: 0,
    started_at: T0 + 6_000,
    finished_at: T0 + 7_000,
    workers: [{ id: 3, hostname: "node3" }],
    paths: paths(2, 8),
    error: "Error: Task created an error file, but it is empty",
  },
  {
    id: 9,
    state: "canceled",
    instance: 0,
    crash_count: 0,
    started_at: T0 + 8_000,
    finished_at: T0 + 9_500,
    workers: [{ id: 3, hostname: "node3" }],
    paths: paths(2, 9),
    error: null,
  },
];

/** `job info 2`: an array with every task state, a custom description and failures. */
export const JOB_TWO: JobDetailView = withSummary({
  info: JOBS[1]!,
  max_fails: 10,
  submitted_at: T0 + 1_500,
  completed_at: null,
  submits: [{
    ids: [{ start: 0, end: 9 }],
    submit_dir: "/home/u/work",
    task_desc: {
      program: {
        args: ["bash", "-c", "echo 'hello'", "a ".repeat(50).trim()],
        env: { FOO: "BAR", HQ_ENTRY: "x", BAZ: "1" },
        cwd: "/tmp/%{TASK_ID}",
        stdout: "out-%{SERVER_UID}-%{JOB_ID}",
        stderr: null,
      },
      requests: [
        {
          n_nodes: 0,
          min_time_ms: 3_600_000,
          weight: 10000,
          entries: [
            { resource: "gpus", amount: 15000, policy: "scatter" },
            { resource: "cpus", amount: 40000, policy: "forceCompact" },
            { resource: "mem", amount: 0, policy: "all" },
          ],
        },
        {
          n_nodes: 0,
          min_time_ms: 0,
          weight: 25000,
          entries: [{ resource: "cpus", amount: 80000, policy: "tight" }],
        },
      ],
      pin_mode: "omp",
      priority: -3,
      time_limit_ms: 1_200,
      task_dir: false,
      crash_limit: "never-restart",
      stream: null,
    },
  }],
}, JOB_TWO_TASKS);

/** The waiting tasks of job 4. */
export const JOB_FOUR_TASKS: TaskView[] = [1, 2, 10, 11].map((id) =>
  unpackTaskView({ id, state: "waiting" })
);

/** `job info 4`: a multi-node job with no task and a few ids, its output streamed. */
export const JOB_FOUR: JobDetailView = withSummary({
  info: {
    id: 4,
    name: "mn",
    task_count: 4,
    is_open: false,
    task_stats: stats({ waiting: 4 }),
    cancel_reason: null,
  },
  max_fails: null,
  submitted_at: T0 + 499,
  completed_at: null,
  submits: [{
    ids: [{ start: 1, end: 2 }, { start: 10, end: 11 }],
    submit_dir: "/home/u",
    task_desc: {
      ...DEFAULT_DESC,
      program: { ...DEFAULT_DESC.program, stdout: null, stderr: null },
      stream: { dir: "/home/u/streams", stdout: true, stderr: true },
      requests: [{ n_nodes: 3, min_time_ms: 0, weight: 10000, entries: [] }],
      pin_mode: "taskset",
      time_limit_ms: 8 * 86_400_000,
      crash_limit: "unlimited",
    },
  }],
}, JOB_FOUR_TASKS);

/** Tasks of jobs 1, 2 and 4 by job id, as `job info` fetches them for JSON. */
export const TASKS_BY_JOB: Record<string, TaskView[]> = {
  "1": JOB_ONE_TASKS,
  "2": JOB_TWO_TASKS,
  "4": JOB_FOUR_TASKS,
};

/** Pools of the running worker (and of `hwdetect`). */
export const POOLS: ResourcePool[] = [
  {
    name: "cpus",
    kind: "range",
    groups: [["0", "1", "2", "3", "4", "5", "6", "7"]],
    size: 0,
  },
  { name: "gpus/nvidia", kind: "list", groups: [["0", "1"]], size: 0 },
  { name: "mem", kind: "sum", groups: [], size: 32000 },
];

/** Workers as `worker list --all` gets them. */
export const WORKERS: WorkerView[] = [
  {
    id: 1,
    state: "running",
    configuration: {
      hostname: "node1",
      group: "default",
      work_dir: "/tmp/hq-worker.abc/work",
      listen_address: "node1:files",
      process_pid: 4242,
      heartbeat_ms: 8_000,
      idle_timeout_ms: null,
      time_limit_ms: 1_200,
      on_server_lost: "stop",
      min_utilization: 3000,
      resources: POOLS,
      manager: null,
    },
    started_at: T0 + 120,
    ended_at: null,
    last_task_started: { job_id: 1, task_id: 0, time: T0 + 5_500 },
    runtime_info: { kind: "singleNode", assigned_tasks: 3, running_tasks: 2, is_reserved: false },
  },
  {
    id: 2,
    state: "stopped",
    configuration: {
      hostname: "cn17.cluster",
      group: "x1234",
      work_dir: "/scratch/w",
      listen_address: "cn17.cluster:files",
      process_pid: 17,
      heartbeat_ms: 10_000,
      idle_timeout_ms: 300_000,
      time_limit_ms: null,
      on_server_lost: "finish-running",
      min_utilization: 0,
      resources: [
        { name: "cpus", kind: "groups", groups: [["0"], ["1", "2"], ["3", "4", "5"]], size: 0 },
        { name: "res", kind: "range", groups: [["3"]], size: 0 },
        { name: "mem", kind: "sum", groups: [], size: 511 },
      ],
      manager: { kind: "pbs", job_id: "x1234" },
    },
    started_at: T0,
    ended_at: T0 + 5_500,
    last_task_started: null,
    runtime_info: null,
  },
  {
    id: 3,
    state: "running",
    configuration: {
      hostname: "node3",
      group: "g1",
      work_dir: "/tmp/w3",
      listen_address: "node3:files",
      process_pid: 3,
      heartbeat_ms: 500,
      idle_timeout_ms: null,
      time_limit_ms: null,
      on_server_lost: "stop",
      min_utilization: 10000,
      resources: [
        { name: "cpus", kind: "groups", groups: [["0", "1"], ["2", "3"]], size: 0 },
      ],
      manager: { kind: "slurm", job_id: "991" },
    },
    started_at: T0 + 1,
    ended_at: null,
    last_task_started: { job_id: 2, task_id: 1, time: T0 + 3_000 },
    runtime_info: { kind: "multiNode", main_node: false },
  },
];

/** `task explain 3 0`: a time limit too short, too few CPUs, and a group too small. */
export const EXPLAIN_BLOCKED: ExplainView = {
  job_id: 3,
  task_id: 0,
  state: "waiting",
  n_task_deps: 0,
  n_waiting_deps: 0,
  workers: [
    {
      worker_id: 1,
      runnable: false,
      variants: [
        [
          { kind: "time", min_time_ms: 3_600_000, remaining_time_ms: 299_500 },
          { kind: "resources", resource: "cpus", request_amount: 100000, worker_amount: 50000 },
          { kind: "resources", resource: "gpus", request_amount: 5000, worker_amount: 20000 },
        ],
        [{ kind: "workerGroup", n_nodes: 3, group_size: 2 }],
      ],
    },
    {
      worker_id: 2,
      runnable: true,
      variants: [
        [
          { kind: "time", min_time_ms: 3_600_000, remaining_time_ms: null },
          { kind: "resources", resource: "cpus", request_amount: 100000, worker_amount: 160000 },
          { kind: "resources", resource: "gpus", request_amount: 5000, worker_amount: 0 },
        ],
        [{ kind: "workerGroup", n_nodes: 3, group_size: 3 }],
      ],
    },
  ],
};

/** `task explain 1 0`: runnable everywhere. */
export const EXPLAIN_READY: ExplainView = {
  job_id: 1,
  task_id: 0,
  state: "waiting",
  n_task_deps: 0,
  n_waiting_deps: 0,
  workers: [1, 2, 3, 5].map((id) => ({
    worker_id: id,
    runnable: true,
    variants: [[{
      kind: "resources",
      resource: "cpus",
      request_amount: 10000,
      worker_amount: 80000,
    }]],
  })),
};

/** `server info`. */
export const SERVER: ServerInfoData = {
  serverUid: "aBc123",
  host: "login1",
  pid: 1234,
  startedAt: T0 + 123,
  version: "0.26.2",
  journal: "/home/u/.hq-server/001/journal",
};
