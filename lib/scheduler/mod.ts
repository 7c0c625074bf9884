/**
 * The scheduling engine, pure: the server state, request-class queues, the
 * reactors that apply events (submits, task updates, worker loss and ticks)
 * and `schedule()`, a round in named stages (placement, prefill, reservation,
 * min-utilization, retraction, commit). Everything takes `now` as a
 * parameter.
 *
 * @module
 */
export * from "./multinode.ts";
export * from "./multinode_schedule.ts";
export * from "./reactor.ts";
export * from "./schedule.ts";
export * from "./schedule_commit.ts";
export * from "./query.ts";
export * from "./schedule_context.ts";
export * from "./schedule_min_utilization.ts";
export * from "./schedule_place.ts";
export * from "./schedule_prefill.ts";
export * from "./prefill_cap.ts";
export * from "./fair_share.ts";
export * from "./schedule_reserve.ts";
export * from "./schedule_retract.ts";
export * from "./state.ts";
export * from "./task.ts";
export * from "./task_queue.ts";
export * from "./task_table.ts";
export * from "./worker_events.ts";
export * from "./worker_load.ts";
export * from "./reattach.ts";
export * from "./forget.ts";
export * from "./submits.ts";
export * from "./job_events.ts";
