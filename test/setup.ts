// aws-local-stepfunctions 3 calls Promise.withResolvers, which Node 20 lacks. local/polyfills.ts is shared with the local stack.
import '../local/polyfills';

/**
 * Quiet output. vitest keeps what a test writes to the console and prints it only when the test fails
 * (`silent: 'passed-only'`), but Powertools' logger writes through a Console of its own, straight to the process's
 * stdout and stderr, which would print every error a test provokes on purpose. In a test worker those two streams
 * write through the console instead, so each line stays with the test that wrote it. (A child process a test spawns
 * has its own streams: the test reads them, they are not these.)
 */
const ROUTED = Symbol.for('gpu-cluster-provisioner.test.stdio-through-console');
const worker = process as NodeJS.Process & { [ROUTED]?: true };
if (!worker[ROUTED]) {
  worker[ROUTED] = true;
  let writing = false;
  const route = (stream: NodeJS.WriteStream, log: (text: string) => void) => {
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      // Should the console itself write to this stream, its write goes out as it is.
      if (writing) return write(chunk, ...rest);
      writing = true;
      try {
        log(String(chunk).replace(/\n$/, ''));
      } finally {
        writing = false;
      }
      (rest.find((arg) => typeof arg === 'function') as (() => void) | undefined)?.();
      return true;
    }) as typeof stream.write;
  };
  route(process.stdout, (text) => console.log(text));
  route(process.stderr, (text) => console.error(text));
}
