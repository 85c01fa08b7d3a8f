// Bundles the dashboard's browser code (npm packages from package-lock.json) into
// src/aichor/web/static/build/, which the server serves and git ignores. Run by `make setup`.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: { app: path.join(here, "app.js") },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "iife",
  target: ["es2020"],
  outdir: path.join(here, "..", "static", "build"),
  loader: { ".css": "css" },
  logLevel: "warning",
});
