#!/usr/bin/env node
// In a source checkout the TypeScript runs through tsx; an installed package runs dist/.
import { runEntry } from "./run-entry.mjs";
await runEntry("cmd/manager");
