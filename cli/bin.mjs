#!/usr/bin/env node
// `claw` entry. Node >= 22.18 runs the TypeScript sources directly (type stripping).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `claw needs Node >= 22.18 (this is ${process.version}). Run it through npm scripts or npx, which use the Node 24 from node_modules/.bin.`,
  );
  process.exit(1);
}
// No colour codes unless both streams are terminals, and never with NO_COLOR or TERM=dumb: set
// before consola and citty load, because they read it once (https://no-color.org).
if (!process.stdout.isTTY || !process.stderr.isTTY || process.env.TERM === "dumb") process.env.NO_COLOR ||= "1";
await import("./main.ts");
