import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { identitySyncCommand, startServiceLoop } from './service-loop.ts';

// The entry a Windows guest's `PaddockSupervisor` Scheduled Task runs at boot, as SYSTEM
// (deploy/azure/scripts/install-paddock.ps1 registers it; the first-boot bootstrap enables it):
//   node windows-service.ts --config C:\ProgramData\Paddock\supervisor.json
//     --identity-sync C:\ProgramData\Paddock\fetch-identity.ps1 --log C:\ProgramData\Paddock\logs\supervisor.log
// It keeps the workspace supervisor (main.ts) running the way systemd does on Linux
// (service-loop.ts). Nothing in it is Windows-only, so it runs, and is tested, anywhere.

const SUPERVISOR_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

const USAGE = 'usage: windows-service.ts --config FILE [--identity-sync SCRIPT] [--log FILE]\n';

function main(): void {
  let values: { config?: string; 'identity-sync'?: string; log?: string };
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: 'string' },
        'identity-sync': { type: 'string' },
        log: { type: 'string' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (!values.config) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  const loop = startServiceLoop({
    entry: SUPERVISOR_ENTRY,
    config: values.config,
    ...(values['identity-sync'] ? { identitySync: identitySyncCommand(values['identity-sync']) } : {}),
    ...(values.log ? { logFile: values.log } : {}),
  });
  // SIGBREAK is Ctrl+Break, the one stop request a console process on Windows can receive.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGBREAK'] as const)
    process.on(signal, () => void loop.stop());
  void loop.ended.then(() => process.exit(0));
}

main();
