// Builds the static front-ends with esbuild (the only dependency):
//   widget/src/loader.js   -> widget/dist/loader.js   (the one-tag embed, tiny)
//   widget/src/chat-ui.js  -> widget/dist/chat-ui.js  (lazily loaded; chat-ui.css inlined)
//   console/src/app.js     -> console/dist/app.js
//   console/src/app.css    -> console/dist/app.css
//   console/src/index.html -> console/dist/index.html (copied)
// widget/demo/ is served as it is. config.json in each dist folder is written by the server
// (the local gateway, or the CDK deployment), never by this build.
// Usage: npm run build            (node scripts/build_frontend.mjs [--check])
//   --check  fail (exit 1) when a bundle is over its gzipped size budget
import { build } from "esbuild";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const p = (...parts) => join(root, ...parts);
const check = process.argv.includes("--check");

const common = {
  bundle: true,
  minify: true,
  target: "es2019",
  legalComments: "none",
  logLevel: "warning",
  charset: "utf8",
};

async function cssText(file) {
  const out = await build({ ...common, entryPoints: [file], write: false, loader: { ".css": "css" } });
  return out.outputFiles[0].text.trim();
}

async function main() {
  await rm(p("widget/dist"), { recursive: true, force: true });
  await rm(p("console/dist"), { recursive: true, force: true });
  await mkdir(p("widget/dist"), { recursive: true });
  await mkdir(p("console/dist"), { recursive: true });

  // Widget: two classic scripts (IIFE); the panel's CSS goes into chat-ui.js as a string.
  await build({ ...common, entryPoints: [p("widget/src/loader.js")], outfile: p("widget/dist/loader.js"), format: "iife" });
  await build({
    ...common,
    entryPoints: [p("widget/src/chat-ui.js")],
    outfile: p("widget/dist/chat-ui.js"),
    format: "iife",
    define: { __PARLEY_WIDGET_CSS__: JSON.stringify(await cssText(p("widget/src/chat-ui.css"))) },
  });

  // Console.
  await build({ ...common, entryPoints: [p("console/src/app.js")], outfile: p("console/dist/app.js"), format: "iife" });
  await build({ ...common, entryPoints: [p("console/src/app.css")], outfile: p("console/dist/app.css") });
  await copyFile(p("console/src/index.html"), p("console/dist/index.html"));

  // Sizes (gzipped, level 9) against the budgets.
  const budgets = [
    ["widget/dist/loader.js", 3 * 1024],
    ["widget/dist/chat-ui.js", 15 * 1024],
    ["console/dist/app.js", 0],
    ["console/dist/app.css", 0],
    ["console/dist/index.html", 0],
  ];
  let over = false;
  console.log("file                        bytes   gzipped  budget");
  for (const [file, budget] of budgets) {
    const buf = await readFile(p(file));
    const gz = gzipSync(buf, { level: 9 }).length;
    const bad = budget && gz > budget;
    over ||= bad;
    console.log(
      `${relative(root, p(file)).padEnd(26)} ${String(buf.length).padStart(7)} ${String(gz).padStart(9)}  ${
        budget ? `${(budget / 1024).toFixed(0)} KB${bad ? "  OVER" : ""}` : "-"
      }`,
    );
  }
  if (over && check) {
    console.error("a bundle is over its gzipped size budget");
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
