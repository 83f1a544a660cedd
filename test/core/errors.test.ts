import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderErrorsDoc } from '../../src/core/errors-doc.ts';
import { ERRORS, PaddockError, isPaddockError } from '../../src/core/errors.ts';

describe('error registry', () => {
  it('names every code PDK_<PLANE>_<CONDITION>', () => {
    for (const code of Object.keys(ERRORS)) assert.match(code, /^PDK_[A-Z0-9]+(_[A-Z0-9]+)*$/, code);
  });

  it('gives every code a message, a fix and an HTTP status', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      assert.ok(spec.message.length > 0, `${code} has no message`);
      assert.ok(spec.fix.length > 10, `${code} has no fix`);
      assert.ok(spec.status >= 400 && spec.status < 600, `${code} status ${spec.status}`);
    }
  });

  it('keeps docs/errors.md in sync (run `npm run docs` after changing the registry)', () => {
    const committed = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    assert.equal(committed, renderErrorsDoc());
  });

  it('carries code, status, expose, details and cause', () => {
    const cause = new Error('disk full');
    const error = new PaddockError('PDK_STORE_UNAVAILABLE', 'cannot open store at x.db', {
      cause,
      details: { file: 'x' },
    });
    assert.equal(error.code, 'PDK_STORE_UNAVAILABLE');
    assert.equal(error.message, 'cannot open store at x.db');
    assert.equal(error.status, 503);
    assert.equal(error.expose, false);
    assert.deepEqual(error.details, { file: 'x' });
    assert.equal(error.cause, cause);
    assert.equal(error.fix, ERRORS.PDK_STORE_UNAVAILABLE.fix);
    assert.ok(isPaddockError(error, 'PDK_STORE_UNAVAILABLE'));
    assert.ok(!isPaddockError(error, 'PDK_INTERNAL'));
    assert.ok(!isPaddockError(new Error('plain')));
  });

  it('falls back to the registry message', () => {
    assert.equal(new PaddockError('PDK_BLUEPRINT_CYCLE').message, ERRORS.PDK_BLUEPRINT_CYCLE.message);
  });
});
