// Preloaded (NODE_OPTIONS=--require) into the app's processes by tests that ask which packages a
// process loaded: at its exit, each process writes the node_modules packages in its require cache
// (CommonJS modules, also those reached by import) to MODULE_PROBE_DIR/<pid>.json.
const fs = require("node:fs");
const path = require("node:path");

const dir = process.env.MODULE_PROBE_DIR;
if (dir) {
  process.on("exit", () => {
    const packages = new Set();
    for (const file of Object.keys(require.cache)) {
      const match = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
      if (match) packages.add(match[1].replace("\\", "/"));
    }
    fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify([...packages].sort()));
  });
}
