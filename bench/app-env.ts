// The app's settings under the benchmark: limits out of the way of the load, production timings.
export const APP_ENV = {
  RATE_LIMIT_SENDS_PER_MINUTE: "1000000",
  MAX_RUNNING_REPLIES_PER_USER: "100000",
  WORKER_CONCURRENCY: "5000",
  LOG_LEVEL: "error",
  // Production timings, not the test suite's quick sweeps.
  STUCK_AFTER_MS: "120000",
  SWEEP_INTERVAL_MS: "60000",
  SHUTDOWN_GRACE_MS: "2000",
  WORKER_LOCK_MS: "30000",
};
