import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPctrError } from '../core/index.ts';
import { tempDir } from '../../test/helpers/services.ts';
import { ArtifactStore, sha256Hex } from './artifact-store.ts';

describe('ArtifactStore', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: ArtifactStore;
  const owner = { name: 'ctr', version: 4 };
  beforeEach(() => {
    tmp = tempDir('artifacts');
    store = new ArtifactStore(join(tmp.dir, 'artifacts'));
  });
  afterEach(() => tmp.remove());

  it('stores bytes under sha256/ab/<hex> once, with no temporary files left', async () => {
    const bytes = new TextEncoder().encode('weights');
    const digest = await store.put(bytes);
    expect(digest).toBe(sha256Hex(bytes));
    expect(store.pathOf(digest)).toBe(join(tmp.dir, 'artifacts', 'sha256', digest.slice(0, 2), digest));
    expect(await store.put(bytes)).toBe(digest);
    expect(readdirSync(join(tmp.dir, 'artifacts', 'sha256', digest.slice(0, 2)))).toEqual([digest]);
    expect(Buffer.from(await store.load(digest, owner)).toString()).toBe('weights');
  });

  it('refuses altered and missing files, naming model, version and both digests', async () => {
    const digest = await store.put(new TextEncoder().encode('weights'));
    writeFileSync(store.pathOf(digest), 'weightz');
    const err = await store.load(digest, owner).catch((e: unknown) => e);
    expect(isPctrError(err, 'PCTR_ARTIFACT_CORRUPT')).toBe(true);
    expect((err as Error).message).toBe(
      `artifact of model ctr version 4 is corrupt: expected sha256 ${digest}, found ${sha256Hex(new TextEncoder().encode('weightz'))} (7 bytes in ${store.pathOf(digest)})`,
    );
    const missing = 'ab'.padEnd(64, '0');
    await expect(store.load(missing, owner)).rejects.toThrow(`artifact of model ctr version 4 is missing: no file ${store.pathOf(missing)}`);
  });

  it('repairs a corrupted file when the same bytes are stored again', async () => {
    const bytes = new TextEncoder().encode('weights');
    const digest = await store.put(bytes);
    writeFileSync(store.pathOf(digest), 'garbage');
    expect(await store.put(bytes)).toBe(digest);
    expect(readFileSync(store.pathOf(digest), 'utf8')).toBe('weights');
  });
});
