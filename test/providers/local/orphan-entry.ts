import { generateIdentity } from '../../../src/core/channel/index.ts';
import { LocalProvider } from '../../../src/providers/local/index.ts';

// Test support: a stand-in control plane process that starts one supervisor through the local
// provider, prints its pid, and waits to be killed (local-provider.test.ts kills it with SIGKILL).

const [dataDir, configDir] = process.argv.slice(2) as [string, string];
const provider = new LocalProvider({ dataDir });
const { identity } = await generateIdentity('ws-orphan');
await provider.start(
  {
    id: 'ws-orphan',
    owner: 'ada@example.com',
    profile: 'standard-local',
    blueprint: 'coding-agent',
    configDir,
  },
  identity,
  'ws://127.0.0.1:9/channel',
);
process.stdout.write(`${provider.pid('ws-orphan')}\n`);
setInterval(() => {}, 1000);
