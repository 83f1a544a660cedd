import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { platformSchema } from '../../src/config/schema/platform.ts';
import { serviceSchema } from '../../src/config/schema/service.ts';
import { allowedKeysAt } from '../../src/config/schema-keys.ts';

describe('allowedKeysAt', () => {
  it('lists the fields of a nested object through optional, default and array wrappers', () => {
    const schema = z.strictObject({
      spec: z.strictObject({
        items: z.array(z.strictObject({ a: z.string(), b: z.number().default(1) })).optional(),
      }),
    });
    assert.deepEqual(allowedKeysAt(schema, [], {}), ['spec']);
    assert.deepEqual(allowedKeysAt(schema, ['spec', 'items', 0], {}), ['a', 'b']);
  });

  it('sees fields added by extend on a derived schema', () => {
    assert.deepEqual(allowedKeysAt(serviceSchema, ['spec'], {}).sort(), [
      'access',
      'cidrs',
      'credential',
      'credentialHeader',
      'description',
      'hosts',
      'mcp',
      'ports',
      'rules',
    ]);
  });

  it('picks the discriminated-union member the document names', () => {
    const data = { spec: { audit: { sinks: [{ type: 'syslog' }] } } };
    assert.deepEqual(allowedKeysAt(platformSchema, ['spec', 'audit', 'sinks', 0], data).sort(), [
      'caFile',
      'delivery',
      'facility',
      'host',
      'name',
      'port',
      'serverName',
      'tls',
      'type',
    ]);
  });

  it('returns nothing for a path that leads to no object', () => {
    assert.deepEqual(allowedKeysAt(platformSchema, ['metadata', 'name'], {}), []);
    assert.deepEqual(allowedKeysAt(platformSchema, ['nope'], {}), []);
  });
});
