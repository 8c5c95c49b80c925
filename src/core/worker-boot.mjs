// Worker threads cannot load .ts files on Node 20 even when the parent runs under tsx; this plain
// JS entry registers tsx inside the worker, then imports the real (TypeScript) entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__pctrEntry);
