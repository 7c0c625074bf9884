/**
 * Resource detection on the real host: the readers `detect.ts` takes
 * (affinity mask, sysfs NUMA nodes, GPU variables, cgroup and meminfo).
 *
 * @module
 */
export * from "./detect_host.ts";
