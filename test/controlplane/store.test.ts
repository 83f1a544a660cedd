import { postgresBackend, sqliteBackend } from './store-backends.ts';
import { describeStore } from './store-suite.ts';

// The same suite against both backends (store-backends.ts).

describeStore('sqlite', sqliteBackend());
describeStore('postgres', postgresBackend());
