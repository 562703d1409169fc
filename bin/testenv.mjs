#!/usr/bin/env node
// The local control plane for tests: `testenv up [--dir D]`.
import { runEntry } from "./run-entry.mjs";
await runEntry("../test/testenv/cli", { sourceOnly: true });
