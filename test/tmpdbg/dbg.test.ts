import { it } from 'vitest';
import { hyperpodRequest, startHarness } from '../helpers/workflow';
it('dbg', async () => {
  const h = await startHarness();
  const r = hyperpodRequest();
  const { execution, record } = await h.provision(r);
  console.log(execution.status, execution.error, record.status, JSON.stringify(record.history), record.lastError);
  await h.close();
}, 20000);
