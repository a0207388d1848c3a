#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so `npx edge-cnn` works from a checkout without a build.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli.ts");
process.exitCode = await main(process.argv.slice(2));
