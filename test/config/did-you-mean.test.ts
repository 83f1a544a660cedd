import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { didYouMean, editDistance, suggestion } from '../../src/config/did-you-mean.ts';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    assert.equal(editDistance('ownr', 'owner'), 1);
    assert.equal(editDistance('owner', 'ownr'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('same', 'same'), 0);
  });

  it('counts a swap of adjacent characters as one edit (Damerau)', () => {
    assert.equal(editDistance('servcies', 'services'), 1);
    assert.equal(editDistance('ab', 'ba'), 1);
  });
});

describe('didYouMean', () => {
  const fields = ['name', 'version', 'owner', 'incidentContact', 'reviewCadence'];

  it('suggests the closest field', () => {
    assert.equal(didYouMean('ownr', fields), 'owner');
    assert.equal(didYouMean('verison', fields), 'version');
    assert.equal(didYouMean('incidentContacts', fields), 'incidentContact');
  });

  it('ignores case', () => {
    assert.equal(didYouMean('reviewcadence', fields), 'reviewCadence');
  });

  it('suggests nothing for unrelated words or over-long input', () => {
    assert.equal(didYouMean('color', fields), undefined);
    assert.equal(didYouMean('x', ['y']), undefined);
    assert.equal(didYouMean('a'.repeat(1000), ['a'.repeat(999)]), undefined);
  });

  it('formats a hint only when there is a match', () => {
    assert.equal(suggestion('ownr', fields), '; did you mean "owner"?');
    assert.equal(suggestion('color', fields), '');
  });
});
