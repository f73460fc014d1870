// Preloaded (--require) into a process whose memory a test measures, with --expose-gc: SIGUSR2
// runs a full garbage collection, so a figure taken after it counts what is live, not garbage V8
// has not collected yet (an idle process may keep that for a long time). It prints what the
// process holds then (process.memoryUsage(), MiB) as a line `gc-on-signal {...}`.
process.on("SIGUSR2", () => {
  if (typeof global.gc !== "function") return;
  global.gc();
  const usage = process.memoryUsage();
  const mib = Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, Math.round(v / 1048576)]));
  process.stdout.write(`gc-on-signal ${JSON.stringify(mib)}\n`);
});
