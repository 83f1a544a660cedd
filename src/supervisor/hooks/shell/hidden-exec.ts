import { type Arg, programName } from './args.ts';
import { HINT, ShellUnverifiable } from './unverifiable.ts';

// Options that make a well-known program run another command: `git -c alias.x='!curl …' x`,
// `ssh -o ProxyCommand=…`, `tar --to-command=…`. The hidden command is not an argv the policy
// can check, so these fail closed. Programs that interpret a language of their own (awk, sed,
// python, node, make, npm scripts, …) are checked as themselves: the policy decides whether
// they may run at all (docs/hooks.md).

const GIT_KEYS =
  /^(alias\.|core\.(sshcommand|pager|editor|fsmonitor|hookspath|askpass|gitproxy|attributesfile)|credential\.|diff\.|difftool\.|merge\.|mergetool\.|filter\.|sequence\.editor|gpg\.|ssh\.|uploadpack\.|receivepack\.|protocol\.|remote\..*\.(uploadpack|receivepack|proxy)|url\.|include\.|includeif\.|http\.)/i;
const GIT_PROGRAM_OPTIONS = /^--(upload-pack|receive-pack|exec)(=|$)/;
const SSH_KEYS =
  /^(proxycommand|localcommand|permitlocalcommand|knownhostscommand|match|proxyusefdpass|include)\b/i;
const TAR_LONG =
  /^--(use-compress-program|to-command|checkpoint-action|info-script|new-volume-script|rsh-command)(=|$)/;

function hidden(program: string, option: string): ShellUnverifiable {
  return new ShellUnverifiable(`${program} ${option} can run a hidden command`, HINT.hiddenExec);
}

function checkGit(args: readonly Arg[]): void {
  let i = 1;
  // Global options come before the subcommand; `-c` after it means something else (commit -c).
  for (; i < args.length; i += 1) {
    const arg = args[i] as Arg;
    const v = arg.value;
    if (arg.dynamic && v.startsWith('-')) throw hidden('git', 'with a run-time option');
    if (!v.startsWith('-')) break;
    if (/^--(exec-path|config-env)(=|$)/.test(v)) throw hidden('git', v.split('=')[0] as string);
    if (v === '-C' || v === '--git-dir' || v === '--work-tree' || v === '--namespace') i += 1;
    let setting: Arg | undefined;
    if (v === '-c') setting = args[++i];
    else if (v.startsWith('-c')) setting = { ...arg, value: v.slice(2) };
    if (setting && (setting.dynamic || GIT_KEYS.test(setting.value.trim())))
      throw hidden('git', `-c ${setting.value.split('=')[0]}`);
  }
  for (const arg of args.slice(i + 1)) {
    if (GIT_PROGRAM_OPTIONS.test(arg.value)) throw hidden('git', arg.value.split('=')[0] as string);
  }
}

function checkSsh(program: string, args: readonly Arg[]): void {
  for (let i = 1; i < args.length; i += 1) {
    const v = (args[i] as Arg).value;
    if (v === '-o' || v.startsWith('-o')) {
      const option = v === '-o' ? args[++i] : { value: v.slice(2), dynamic: (args[i] as Arg).dynamic };
      if (!option || option.dynamic || SSH_KEYS.test(option.value.trim())) throw hidden(program, '-o');
    } else if (v === '-F' || (program === 'scp' && v === '-S') || (program === 'sftp' && v === '-S')) {
      throw hidden(program, v);
    }
  }
}

/**
 * Throws when the command carries an option that runs another program.
 * @example checkHiddenExec(argv('git -c core.sshCommand=x fetch')) // throws
 */
export function checkHiddenExec(args: readonly Arg[]): void {
  const name = programName(args[0] as Arg);
  switch (name) {
    case 'git':
      checkGit(args);
      return;
    case 'ssh':
    case 'scp':
    case 'sftp':
      checkSsh(name, args);
      return;
    case 'rsync':
      for (const arg of args.slice(1))
        if (/^(-e|--rsh)(=|$)|^-[a-zA-Z]*e$/.test(arg.value)) throw hidden('rsync', '-e');
      return;
    case 'tar':
      for (const arg of args.slice(1)) {
        if (TAR_LONG.test(arg.value)) throw hidden('tar', arg.value.split('=')[0] as string);
        if (/^-[^-]*[IF]/.test(arg.value)) throw hidden('tar', '-I/-F');
      }
      return;
    case 'zip':
      for (const arg of args.slice(1))
        if (/^(-TT|--unzip-command)/.test(arg.value)) throw hidden('zip', '-TT');
      return;
    default:
      return;
  }
}
