import { postgresBackend, sqliteBackend } from '../store-backends.ts';
import { describeLifecycle } from './lifecycle-suite.ts';

// The workspace lifecycle (src/controlplane/workspaces/) against both store backends.

describeLifecycle('sqlite', sqliteBackend());
describeLifecycle('postgres', postgresBackend());
