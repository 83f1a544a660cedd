import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allowedActions,
  isWorkspaceAction,
  nextState,
  WORKSPACE_ACTIONS,
  WORKSPACE_STATES,
} from '../../../src/controlplane/workspaces/index.ts';
import { isPaddockError } from '../../../src/core/errors.ts';

// The state table itself: every (state, action) pair, so a change to it is a visible change here.

const EXPECTED: Record<string, Record<string, string | null>> = {
  created: {
    start: 'running',
    stop: null,
    rebuild: 'created',
    revoke: 'revoked',
    decommission: 'decommissioned',
  },
  running: { start: null, stop: 'stopped', rebuild: 'running', revoke: 'revoked', decommission: null },
  stopped: {
    start: 'running',
    stop: null,
    rebuild: 'stopped',
    revoke: 'revoked',
    decommission: 'decommissioned',
  },
  revoked: { start: null, stop: null, rebuild: null, revoke: null, decommission: 'decommissioned' },
  decommissioned: { start: null, stop: null, rebuild: null, revoke: null, decommission: null },
};

describe('workspace states', () => {
  it('allows exactly the documented transitions', () => {
    for (const state of WORKSPACE_STATES) {
      for (const action of WORKSPACE_ACTIONS) {
        const expected = EXPECTED[state]?.[action];
        if (expected) assert.equal(nextState('ws-1', state, action), expected, `${state} ${action}`);
        else
          assert.throws(
            () => nextState('ws-1', state, action),
            (error) =>
              isPaddockError(error, 'PDK_WORKSPACE_TRANSITION') &&
              error.message.includes(`is ${state}: ${action} is not allowed`),
          );
      }
    }
    assert.deepEqual(allowedActions('revoked'), ['decommission']);
    assert.deepEqual(allowedActions('decommissioned'), []);
  });

  it('an unknown state allows nothing, and only known action names are actions', () => {
    assert.throws(
      () => nextState('ws-1', 'tampered', 'start'),
      /is tampered: start is not allowed \(allowed: nothing\)/,
    );
    assert.equal(isWorkspaceAction('start'), true);
    assert.equal(isWorkspaceAction('constructor'), false);
  });
});
