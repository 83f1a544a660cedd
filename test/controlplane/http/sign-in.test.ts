import { postgresBackend, sqliteBackend } from '../store-backends.ts';
import { describeSignIn } from './sign-in-suite.ts';

// Sign-in and sessions (src/controlplane/http, identity, sessions) over both store backends.

describeSignIn('sqlite', sqliteBackend());
describeSignIn('postgres', postgresBackend());
