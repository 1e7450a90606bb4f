#!/usr/bin/env node
// The `provision` executable: tsx compiles the TypeScript sources on the fly, so the CLI needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./provision.ts');
process.exitCode = await main(process.argv.slice(2));
