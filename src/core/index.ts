/**
 * core: what every module shares — event schemas and the columnar batch, the error catalog,
 * validated configuration, clocks (real and simulated), ids, hashing, logging and worker startup.
 * It depends on nothing else in pctr.
 */
export * from './errors.ts';
export * from './validation.ts';
export * from './schemas.ts';
export * from './hash.ts';
export * from './batch.ts';
export * from './clock.ts';
export * from './duration.ts';
export * from './ids.ts';
export * from './config.ts';
export * from './logger.ts';
export * from './worker.ts';
export * from './process.ts';
export * from './served-features.ts';
