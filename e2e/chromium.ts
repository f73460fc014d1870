// Debian's Chromium (`apt-get install chromium`), launched the way this machine needs: no sandbox
// as root, no GPU, and none of the background calls a closed network refuses.
export const CHROMIUM_LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};
