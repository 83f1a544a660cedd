import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SERVE_SESSION_KEY_FILE } from '../../src/controlplane/sessions/session-key.ts';
import { renderChart } from './helm-template.ts';

// The chart mounts the one session key (a Secret) on every replica where `paddock serve` reads
// it by default, readable by the pod only.

const CHART = fileURLToPath(new URL('../../deploy/helm/paddock/', import.meta.url));
const RELEASE = { name: 'paddock', namespace: 'paddock' };

// biome-ignore lint/suspicious/noExplicitAny: rendered documents
type Json = Record<string, any>;

function mountedSessionKey(values?: Json): { volume: Json | undefined; mount: Json | undefined } {
  const documents = renderChart(CHART, RELEASE, values) as { object: Json }[];
  const deployment = documents.find((document) => document.object['kind'] === 'Deployment')?.object;
  const pod = deployment?.['spec']['template']['spec'] as Json;
  const volume = (pod['volumes'] as Json[]).find((each) =>
    each['secret']?.['items']?.some(
      (item: Json) => item['path'] === basename(DEFAULT_SERVE_SESSION_KEY_FILE),
    ),
  );
  const mount = (pod['containers'][0]['volumeMounts'] as Json[]).find(
    (each) => each['name'] === volume?.['name'],
  );
  return { volume, mount };
}

describe('helm chart: session key', () => {
  it('mounts the session key Secret read-only, mode 0400, where paddock serve reads it', () => {
    const { volume, mount } = mountedSessionKey();
    assert.ok(volume && mount, 'the session key Secret is mounted');
    assert.equal(volume['secret']['secretName'], 'paddock-session-key');
    assert.equal(volume['secret']['defaultMode'], 0o400);
    assert.deepEqual(volume['secret']['items'], [
      { key: 'key', path: basename(DEFAULT_SERVE_SESSION_KEY_FILE) },
    ]);
    assert.equal(mount['mountPath'], dirname(DEFAULT_SERVE_SESSION_KEY_FILE));
    assert.equal(mount['readOnly'], true);
  });

  it('takes the Secret and key names from the values', () => {
    const { volume } = mountedSessionKey({ sessionKey: { secretName: 'sessions-aes', secretKey: 'aes256' } });
    assert.equal(volume?.['secret']['secretName'], 'sessions-aes');
    assert.deepEqual(volume?.['secret']['items'], [{ key: 'aes256', path: 'key' }]);
  });
});
