/** recordOutcome's dependencies: the workflow's, plus the scheduler for deleteAfter teardowns. */
import type { WorkflowDeps } from '../core/workflow';
import { once } from '../platform/config';
import { lazyScheduler } from './scheduler';
import { workflowDeps } from './workflow';

export const workflowDepsWithTeardown = once((): WorkflowDeps => ({ ...workflowDeps(), teardown: lazyScheduler }));
