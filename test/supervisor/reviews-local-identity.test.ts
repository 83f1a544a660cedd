import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { describe, it } from 'node:test';
import { localGroups, localLogin, localReviewer } from '../../src/supervisor/index.ts';

// Standalone reviewer identity: the local account (SUDO_USER under sudo) and its real groups.

describe('local reviewer identity', () => {
  it('is SUDO_USER when root runs through sudo, else the account itself', () => {
    const me = userInfo().username;
    assert.equal(localLogin({ SUDO_USER: 'alice' }, 0), 'alice');
    assert.equal(localLogin({ SUDO_USER: 'alice' }, 1000), me);
    assert.equal(localLogin({ SUDO_USER: 'root' }, 0), me);
    assert.equal(localLogin({ SUDO_USER: 'al ice;rm' }, 0), me);
    assert.equal(localLogin({}, 0), me);
  });

  it('reads groups from the system database, and none for unknown accounts or emails', async () => {
    const me = userInfo().username;
    const groups = await localGroups(me);
    assert.ok(groups.length > 0, `${me} has no groups`);
    assert.deepEqual(await localGroups('paddock-no-such-user'), []);
    assert.deepEqual(await localGroups('bob@example.com'), []);
    assert.deepEqual(await localGroups('-n'), []);
  });

  it('records an identity given with --as as asserted by the account', async () => {
    const groupsOf = async (account: string) => [`g-${account}`];
    assert.deepEqual(await localReviewer('alice', undefined, groupsOf), {
      id: 'alice',
      name: 'alice',
      groups: ['g-alice'],
    });
    assert.deepEqual(await localReviewer('alice', 'alice', groupsOf), {
      id: 'alice',
      name: 'alice',
      groups: ['g-alice'],
    });
    assert.deepEqual(await localReviewer('alice', 'bob', groupsOf), {
      id: 'bob',
      groups: ['g-bob'],
      assertedBy: 'asserted with --as by local user alice',
    });
  });
});
