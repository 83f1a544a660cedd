import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedActions, canOpenTerminal } from '../../src/console/app/workspace-actions.ts';
import {
  WORKSPACE_STATES,
  allowedActions as serverAllowedActions,
} from '../../src/controlplane/workspaces/states.ts';

describe('console workspace buttons', () => {
  it('enable exactly the actions the lifecycle state machine allows, in every state', () => {
    for (const state of WORKSPACE_STATES)
      assert.deepEqual([...allowedActions(state)].sort(), serverAllowedActions(state).sort(), state);
  });

  it('enable nothing for a state the console does not know', () => {
    assert.deepEqual(allowedActions('melting'), []);
    assert.deepEqual(allowedActions('constructor'), []);
    assert.deepEqual(allowedActions('__proto__'), []);
  });

  it('open a terminal only into a running workspace', () => {
    assert.deepEqual(
      WORKSPACE_STATES.filter((state) => canOpenTerminal(state)),
      ['running'],
    );
  });
});
