export { recoverDecision, splitCommandLine } from './recover-request.ts';
export type { RecordedDecision, Recovery } from './recover-request.ts';
export {
  recordedDecisionsFromChainLines,
  recordedDecisionsFromStore,
  replayDecisions,
  resourceOf,
} from './replay.ts';
export type { CandidateDecisionPoints, ChangedDecision, ChangeKind, ReplayReport } from './replay.ts';
