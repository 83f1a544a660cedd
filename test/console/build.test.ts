// Builds the console with Vite (into a temporary directory) and checks what the control plane
// will serve: only hashed same-origin assets, nothing inline, nothing fetched from elsewhere,
// nothing that needs eval. These are what let the server's CSP stay same-origin.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { consoleSourceHash, ensureConsoleBuilt } from '../../scripts/build-console.ts';

describe('console build', () => {
  let parent: string;
  let outDir: string;
  let html: string;
  let assets: string[];

  before(async () => {
    parent = mkdtempSync(join(tmpdir(), 'paddock-console-build-'));
    outDir = join(parent, 'console');
    const result = await ensureConsoleBuilt({ outDir });
    assert.equal(result.built, true);
    html = readFileSync(join(outDir, 'index.html'), 'utf8');
    assets = readdirSync(join(outDir, 'assets'));
  });

  after(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('references only content-hashed assets under /assets/, and each exists', () => {
    const references = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1] as string);
    assert.ok(
      references.some((ref) => ref.endsWith('.js')),
      'a script',
    );
    assert.ok(
      references.some((ref) => ref.endsWith('.css')),
      'a stylesheet',
    );
    for (const ref of references) {
      assert.match(ref, /^\/assets\/[A-Za-z0-9_-]+-[A-Za-z0-9_-]{8,}\.(js|css)$/, `hashed asset: ${ref}`);
      assert.ok(existsSync(join(outDir, ref)), `${ref} exists`);
    }
    // Everything in assets/ is hashed too, so the server may cache it forever.
    for (const name of assets) assert.match(name, /-[A-Za-z0-9_-]{8,}\.(js|css)$/, name);
  });

  it('has no inline script, style or event handler in index.html', () => {
    for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(attributes ?? '', /\ssrc="/, 'every script is external');
      assert.equal((body ?? '').trim(), '', 'no inline script body');
    }
    assert.doesNotMatch(html, /<style\b/i);
    assert.doesNotMatch(html, /\sstyle=/i);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handler');
    assert.doesNotMatch(html, /javascript:/i);
  });

  it('loads nothing from another origin', () => {
    assert.doesNotMatch(
      html,
      /(?:src|href)="(?:[a-z]+:)?\/\//i,
      'no absolute or protocol-relative URL in index.html',
    );
    for (const name of assets.filter((asset) => asset.endsWith('.css'))) {
      const css = readFileSync(join(outDir, 'assets', name), 'utf8');
      assert.doesNotMatch(css, /@import/, `${name}: no @import`);
      for (const [, url] of css.matchAll(/url\(\s*['"]?([^'")]*)/g))
        assert.doesNotMatch(url ?? '', /^(?:[a-z]+:|\/\/)/i, `${name}: url(${url}) is same-origin`);
    }
    for (const name of assets.filter((asset) => asset.endsWith('.js'))) {
      const js = readFileSync(join(outDir, 'assets', name), 'utf8');
      // Namespace URIs and React's error-page link are strings, not fetches; anything else is suspect.
      const urls = new Set(js.match(/https?:\/\/[A-Za-z0-9.-]+/g) ?? []);
      const known = new Set(['http://www.w3.org', 'https://react.dev']);
      assert.deepEqual(
        [...urls].filter((url) => !known.has(url)),
        [],
        `${name}: no other host`,
      );
      assert.doesNotMatch(js, /\bimport\(\s*["'`]https?:/, `${name}: no remote dynamic import`);
      assert.doesNotMatch(js, /fonts\.(googleapis|gstatic)|cdn\.|unpkg|jsdelivr/, `${name}: no CDN`);
    }
  });

  it('needs no eval or new Function (the CSP has no unsafe-eval)', () => {
    for (const name of assets.filter((asset) => asset.endsWith('.js'))) {
      const js = readFileSync(join(outDir, 'assets', name), 'utf8');
      assert.doesNotMatch(js, /(?<![\w$.])eval\(/, `${name}: eval`);
      assert.doesNotMatch(js, /new Function\(/, `${name}: new Function`);
    }
  });

  it('stamps the output with the source hash and skips a build while it matches', async () => {
    const stamp = readFileSync(join(outDir, '.build-stamp'), 'utf8').trim();
    assert.equal(stamp, consoleSourceHash());
    assert.match(stamp, /^[0-9a-f]{64}$/);
    const again = await ensureConsoleBuilt({ outDir });
    assert.equal(again.built, false);
  });

  it('rebuilds when the stamp does not match, and leaves no staging directories', async () => {
    writeFileSync(join(outDir, '.build-stamp'), 'stale\n');
    const rebuilt = await ensureConsoleBuilt({ outDir });
    assert.equal(rebuilt.built, true);
    assert.equal(readFileSync(join(outDir, '.build-stamp'), 'utf8').trim(), consoleSourceHash());
    assert.deepEqual(readdirSync(parent), ['console']);
  });
});
