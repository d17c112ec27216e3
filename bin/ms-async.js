#!/usr/bin/env node
// No logic here: run the CLI and hand its exit code to Node without cutting pending stdout writes.
// dist/bundle/ is src/ built and bundled with its libraries (`npm run build`, scripts/bundle.mjs).
import { main } from '../dist/bundle/main.js';

process.exitCode = await main();
