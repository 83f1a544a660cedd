import { describeReviewQueue } from './review-queue-suite.ts';
import { postgresBackend, sqliteBackend } from './store-backends.ts';

// The review queue (src/controlplane/reviews/) against both store backends.

describeReviewQueue('sqlite', sqliteBackend());
describeReviewQueue('postgres', postgresBackend());
