import { eventLogContract, redisSettings } from '../../../test/contracts/event-log.contract.ts';
import { dropRedisPrefix, uniqueName } from '../../../test/helpers/services.ts';
import { createEventLog } from '../index.ts';

eventLogContract('redis', async () => {
  const prefix = uniqueName('ev');
  return {
    open: (overrides) => createEventLog(redisSettings(prefix, overrides)),
    cleanup: () => dropRedisPrefix(prefix),
  };
});
