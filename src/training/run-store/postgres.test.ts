import { runStoreContract } from '../../../test/contracts/run-store.contract.ts';
import { createPgSchema, pgUrl } from '../../../test/helpers/services.ts';
import { createRunStore } from './index.ts';

const schemas: { drop: () => Promise<void> }[] = [];

runStoreContract('postgres', {
  create: async () => {
    const s = await createPgSchema('runs');
    schemas.push(s);
    return createRunStore(`${pgUrl()}?schema=${s.schema}`);
  },
  cleanup: async () => {
    for (const s of schemas.splice(0)) await s.drop();
  },
});
