/**
 * dynalite (DynamoDB on LevelDB) on loopback: used by the tests' global setup and by the local stack.
 * `path` keeps data on disk; without it the data lives in memory.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface RunningDynalite {
  endpoint: string;
  close(): Promise<void>;
}

export const startDynalite = async (options: { port?: number; path?: string } = {}): Promise<RunningDynalite> => {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
