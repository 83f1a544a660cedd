import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AUDIT_EVENTS, OCSF_CLASSES } from '../../src/audit/index.ts';
import { ocsfSchema } from './ocsf-schema.ts';

// docs/audit-events.md is the operators' copy of the event catalog; it must list exactly the
// names the code defines, each with its class and activities. The catalog's captions must be
// the schema's own.

interface DocRow {
  readonly classUid: number;
  readonly classCaption: string;
  readonly activities: readonly string[];
}

function documentedEvents(): Map<string, DocRow> {
  const doc = readFileSync(new URL('../../docs/audit-events.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('| Event | OCSF class | Activity | When |'));
  const rows = new Map<string, DocRow>();
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const [, name, cls, activities] = line.split('|').map((cell) => cell.trim());
    const event = /^`([a-z_]+\.[a-z_]+)`$/.exec(name ?? '')?.[1];
    const classMatch = /^(.+) \((\d+)\)$/.exec(cls ?? '');
    assert.ok(event && classMatch, `malformed row in docs/audit-events.md: ${line}`);
    assert.ok(!rows.has(event), `docs/audit-events.md lists ${event} twice`);
    rows.set(event, {
      classCaption: classMatch[1] as string,
      classUid: Number(classMatch[2]),
      activities: (activities ?? '').split(', '),
    });
  }
  return rows;
}

describe('audit event catalog', () => {
  it('docs/audit-events.md lists exactly the catalogued events', () => {
    const documented = documentedEvents();
    assert.deepEqual([...documented.keys()].sort(), Object.keys(AUDIT_EVENTS).sort());
    for (const [name, spec] of Object.entries(AUDIT_EVENTS)) {
      const cls = OCSF_CLASSES[spec.classUid];
      assert.ok(cls, `${name}: class ${spec.classUid} is not in OCSF_CLASSES`);
      assert.deepEqual(
        documented.get(name),
        {
          classCaption: cls.caption,
          classUid: cls.uid,
          activities: spec.activities.map((id) => `${cls.activities[id]} (${id})`),
        },
        `docs/audit-events.md row for ${name}`,
      );
    }
  });

  it('uses the OCSF 1.8.0 captions for every class, category and activity', () => {
    const schema = ocsfSchema();
    for (const cls of Object.values(OCSF_CLASSES)) {
      const defined = schema.classes.get(cls.uid);
      assert.equal(defined?.caption, cls.caption);
      assert.equal(defined?.categoryUid, cls.categoryUid);
      assert.equal(defined?.attributes.get('category_uid')?.enum?.[cls.categoryUid], cls.categoryCaption);
      for (const [id, caption] of Object.entries(cls.activities)) {
        assert.equal(
          defined?.attributes.get('activity_id')?.enum?.[id],
          caption,
          `${cls.caption} activity ${id}`,
        );
      }
    }
  });

  it('names follow the dotted convention and decision families are complete', () => {
    const names = Object.keys(AUDIT_EVENTS);
    for (const name of names) assert.match(name, /^[a-z]+\.[a-z_]+$/);
    for (const family of ['http', 'exec', 'file', 'mcp']) {
      for (const suffix of ['allowed', 'denied', 'review_requested'])
        assert.ok(names.includes(`${family}.${suffix}`));
    }
  });
});
