#!/usr/bin/env node
// No logic here: run the CLI and hand its exit code to Node without cutting pending stdout writes.
import { main } from '../dist/main.js';

process.exitCode = await main();
