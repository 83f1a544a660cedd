import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AsciicastError,
  parseAsciicast,
  parseResize,
  playbackTimes,
} from '../../src/console/app/asciicast.ts';

const HEADER = JSON.stringify({ version: 2, width: 80, height: 24, timestamp: 1_700_000_000 });

describe('console asciicast player: parsing', () => {
  it('reads the header and every event, skipping blank lines', () => {
    const cast = parseAsciicast(
      [
        HEADER,
        '[0.5, "o", "$ "]',
        '',
        '[1.25, "i", "ls\\r"]',
        '[2, "r", "100x30"]',
        '[3, "o", "done\\r\\n"]',
        '',
      ].join('\n'),
    );
    assert.deepEqual(cast.header, { version: 2, width: 80, height: 24, timestamp: 1_700_000_000 });
    assert.deepEqual(
      cast.events.map((event) => [event.time, event.code, event.data]),
      [
        [0.5, 'o', '$ '],
        [1.25, 'i', 'ls\r'],
        [2, 'r', '100x30'],
        [3, 'o', 'done\r\n'],
      ],
    );
  });

  it('keeps idle_time_limit and title from the header', () => {
    const cast = parseAsciicast(
      JSON.stringify({ version: 2, width: 10, height: 5, idle_time_limit: 2, title: 't' }),
    );
    assert.equal(cast.header.idleTimeLimit, 2);
    assert.equal(cast.header.title, 't');
    assert.deepEqual(cast.events, []);
  });

  const bad: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['header not JSON', '{nope', /line 1: the header is not JSON/],
    ['header an array', '[]', /not a JSON object/],
    ['version 1', JSON.stringify({ version: 1, width: 80, height: 24 }), /version 2/],
    ['zero width', JSON.stringify({ version: 2, width: 0, height: 24 }), /width/],
    ['huge height', JSON.stringify({ version: 2, width: 80, height: 1e9 }), /height/],
    ['event not JSON', `${HEADER}\n[1, "o"`, /line 2: not JSON/],
    ['event too short', `${HEADER}\n[1, "o"]`, /line 2: an event is/],
    ['data not a string', `${HEADER}\n[1, "o", 5]`, /line 2: an event is/],
    ['time going back', `${HEADER}\n[2, "o", "a"]\n[1, "o", "b"]`, /line 3: times must not go backwards/],
  ];
  for (const [name, text, message] of bad) {
    it(`refuses a recording with ${name}`, () => {
      assert.throws(
        () => parseAsciicast(text),
        (error: unknown) => {
          assert.ok(error instanceof AsciicastError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

describe('console asciicast player: timing', () => {
  const events = [0.5, 1, 11, 11.5, 40].map((time) => ({ time, code: 'o', data: '' }));

  it('keeps the recorded times without an idle limit', () => {
    assert.deepEqual(playbackTimes(events), [0.5, 1, 11, 11.5, 40]);
  });

  it('shortens idle gaps to the limit and keeps shorter gaps as they are', () => {
    assert.deepEqual(playbackTimes(events, 2), [0.5, 1, 3, 3.5, 5.5]);
  });

  it('reads resize data and refuses malformed sizes', () => {
    assert.deepEqual(parseResize('120x40'), { cols: 120, rows: 40 });
    assert.equal(parseResize('0x40'), undefined);
    assert.equal(parseResize('120 x 40'), undefined);
    assert.equal(parseResize('99999x1'), undefined);
  });
});
