import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it; it may be taken again before it is used). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
