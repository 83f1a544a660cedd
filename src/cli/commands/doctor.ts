import { type FeatureReport, probeSandboxFeatures } from '../../supervisor/index.ts';
import { type Command, JSON_HELP, JSON_OPTION } from '../command.ts';
import { writeJson } from '../output.ts';

const HELP = `Checks each host feature the agent sandbox needs and prints it as OK or MISSING,
with what to do about a missing one: root, user namespaces, network namespaces,
bubblewrap and its version, nftables, seccomp, the Landlock ABI, cgroups (informational:
limits are rlimits) and rlimits. A sandbox refuses to start without a required feature
(Landlock may be waived per blueprint: spec.sandbox.allowMissing: [landlock]).

--json prints {"ok", "features": [{"id", "name", "status", "required", "detail", "fix"}]}.

Exit codes: 0 every required feature present, 1 one or more missing, 2 usage error.

Options:
${JSON_HELP}
`;

function line(feature: FeatureReport): string {
  const status = feature.status === 'ok' ? 'OK     ' : feature.required ? 'MISSING' : 'absent ';
  const fix = feature.status === 'ok' ? '' : `\n          fix: ${feature.fix}`;
  return `${status}  ${feature.name}: ${feature.detail}${feature.required ? '' : ' (optional)'}${fix}\n`;
}

/** `paddock doctor`: can this host run agent sandboxes? */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check the kernel and host features the agent sandbox needs',
  usage: '[--json]',
  help: HELP,
  options: { ...JSON_OPTION },
  async run(ctx) {
    const features = probeSandboxFeatures();
    const ok = features.every((feature) => feature.status === 'ok' || !feature.required);
    if (ctx.values['json']) writeJson(ctx.stdout, { ok, features });
    else {
      for (const feature of features) ctx.stdout.write(line(feature));
      const missing = features.filter((feature) => feature.status !== 'ok' && feature.required).length;
      ctx.stdout.write(
        ok ? 'sandbox: ready\n' : `sandbox: ${missing} required feature${missing === 1 ? '' : 's'} missing\n`,
      );
    }
    return ok ? 0 : 1;
  },
};
