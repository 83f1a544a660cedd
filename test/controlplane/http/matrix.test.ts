import { postgresBackend, sqliteBackend } from '../store-backends.ts';
import { describeMatrix } from './matrix-suite.ts';

// The authorization matrix (issue 6) over both store backends.

describeMatrix('sqlite', sqliteBackend());
describeMatrix('postgres', postgresBackend());
