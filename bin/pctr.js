#!/usr/bin/env node
// pctr is written in TypeScript and runs under tsx (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
