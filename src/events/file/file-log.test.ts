import { eventLogContract, fileSettings } from '../../../test/contracts/event-log.contract.ts';
import { tempDir } from '../../../test/helpers/services.ts';
import { createEventLog } from '../index.ts';

eventLogContract('file', async () => {
  const t = tempDir('evlog');
  return {
    open: (overrides) => createEventLog(fileSettings(t.dir, overrides)),
    cleanup: async () => t.remove(),
  };
});
