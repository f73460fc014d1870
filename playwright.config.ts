import { defineConfig } from "@playwright/test";
import { CHROMIUM_LAUNCH } from "./e2e/chromium";

// End-to-end tests in Debian's Chromium (`apt-get install chromium`): Playwright's own browser
// download cannot work here. Each project runs against the app in one mode (see e2e/fixtures.ts).
export default defineConfig({
  testDir: "e2e",
  timeout: 90_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    launchOptions: CHROMIUM_LAUNCH,
    trace: "off",
    screenshot: "only-on-failure",
  },
  projects: [
    // `*.redis.spec.ts` kill and start the worker process, which only the Redis mode has.
    { name: "embedded", metadata: { mode: "embedded" }, testIgnore: /\.redis\.spec\.ts$/ },
    { name: "redis", metadata: { mode: "redis" } },
  ],
});
