// Builds the client dashboard (a static app) with esbuild:
//   dashboard/src/app.js     -> dashboard/dist/app.js   (minified IIFE)
//   dashboard/src/app.css    -> dashboard/dist/app.css  (minified)
//   dashboard/src/index.html -> dashboard/dist/index.html (copied)
// config.json is served next to it by the server (the local gateway, or the CDK deployment),
// never written by this build.
// Usage: node scripts/build_dashboard.mjs [--check]
//   --check  fail (exit 1) when the bundle is over its gzipped size budget
import { build } from "esbuild";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const p = (...parts) => join(root, ...parts);
const check = process.argv.includes("--check");
const BUDGET = 24 * 1024; // gzipped app.js + app.css + index.html (docs/benchmarks.md: what it holds)

const common = {
  bundle: true,
  minify: true,
  target: "es2019",
  legalComments: "none",
  logLevel: "warning",
  charset: "utf8",
};

async function main() {
  await rm(p("dashboard/dist"), { recursive: true, force: true });
  await mkdir(p("dashboard/dist"), { recursive: true });
  await build({ ...common, entryPoints: [p("dashboard/src/app.js")], outfile: p("dashboard/dist/app.js"), format: "iife" });
  await build({ ...common, entryPoints: [p("dashboard/src/app.css")], outfile: p("dashboard/dist/app.css") });
  await copyFile(p("dashboard/src/index.html"), p("dashboard/dist/index.html"));

  let total = 0;
  console.log("file                        bytes   gzipped");
  for (const file of ["dashboard/dist/app.js", "dashboard/dist/app.css", "dashboard/dist/index.html"]) {
    const buf = await readFile(p(file));
    const gz = gzipSync(buf, { level: 9 }).length;
    total += gz;
    console.log(`${file.padEnd(26)} ${String(buf.length).padStart(7)} ${String(gz).padStart(9)}`);
  }
  const over = total > BUDGET;
  console.log(`${"total (gzipped)".padEnd(26)} ${"".padStart(7)} ${String(total).padStart(9)}  budget ${BUDGET / 1024} KB${over ? "  OVER" : ""}`);
  if (over && check) {
    console.error("the dashboard is over its gzipped size budget");
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
