#!/usr/bin/env node
// Thin shim so the bin exists before the first build (pnpm links bins at install time).
import '../dist/cli.js';
